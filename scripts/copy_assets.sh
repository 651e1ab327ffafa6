#!/usr/bin/env sh
# Copies the pinned front-end packages (package-lock.json) into static/vendor.
# The copies are committed, so the portal and its tests need no npm at run time;
# run `make assets` after changing a version in package.json.
set -eu
cd "$(dirname "$0")/.."
npm ci --ignore-scripts --no-audit --no-fund
rm -rf static/vendor && mkdir -p static/vendor/bootstrap static/vendor/htmx static/vendor/echarts
# With their source maps: the files name them, and the production (manifest) static storage
# refuses a reference to a missing file.
cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map static/vendor/bootstrap/
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map static/vendor/bootstrap/
cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx/
cp node_modules/echarts/dist/echarts.min.js static/vendor/echarts/
for pkg in bootstrap htmx.org echarts; do
  node -e "const p=require('./node_modules/$pkg/package.json');console.log(p.name+'@'+p.version+' '+p.license)"
done > static/vendor/VERSIONS.txt
cat static/vendor/VERSIONS.txt
