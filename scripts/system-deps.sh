#!/usr/bin/env bash
# Install the Debian packages the tests drive as real clients: chromium (the web map test) and
# gdal-bin (GDAL's WMTS driver opens our WMTSCapabilities.xml). Needs root and apt-get; without
# them it says what is missing and the tests that need it skip with that reason.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v gdalinfo >/dev/null 2>&1 || need+=(gdal-bin)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing ${need[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || echo "warning: could not install ${need[*]}; the tests that need them will skip" >&2
else
  echo "note: ${need[*]} missing and not root; install them (apt-get install ${need[*]}) to run every test" >&2
fi
exit 0
