"""The ``carbonmap`` command line (placeholder until the stages land)."""
import typer

app = typer.Typer(help="carbonmap: daily gridded fossil CO2 emissions")


@app.command()
def version() -> None:
    """Print the version."""
    from carbonmap import __version__

    typer.echo(__version__)
