#!/usr/bin/env bash
# Front-end assets from the npm registry, pinned by version and integrity hash, unpacked into a
# git-ignored folder of the package: never fetched from a CDN at run time, never copied into the
# repository. Now: the Thai font of the pages and the offline reports (Noto Sans Thai, SIL OFL 1.1,
# from @fontsource). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=src/ocsea/web/static/vendor
PKG="@fontsource/noto-sans-thai@5.3.0"
SRI="sha512-ngqUyvDukkZUHypQbUJvUdAeYa2aYZsyeDTsdqMudf7GK2F2TK19OZ5kbo+37qsBtkNpmAMhEObQnWnzPqzKUw=="
FILES=(noto-sans-thai-thai-400-normal.woff2 noto-sans-thai-thai-700-normal.woff2)
STAMP="$DEST/.installed-noto-sans-thai-5.3.0"
[ -f "$STAMP" ] && exit 0
command -v npm >/dev/null || { echo "npm is needed to install the web app's Thai font (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "$PKG" --silent >/dev/null)
tgz=$(ls "$tmp"/*.tgz)
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
if [ "$got" != "$SRI" ]; then
  echo "$PKG: integrity $got is not the pinned $SRI" >&2
  exit 1
fi
tar xzf "$tgz" -C "$tmp" package/LICENSE "${FILES[@]/#/package/files/}"
mkdir -p "$DEST"
cp "${FILES[@]/#/$tmp/package/files/}" "$DEST/"
cp "$tmp/package/LICENSE" "$DEST/noto-sans-thai-LICENSE.txt"
touch "$STAMP"
echo "installed $PKG into $DEST"
