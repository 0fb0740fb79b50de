from carbonmap.cli import app

app()
