#!/usr/bin/env bash
# photos.sh DIR: puts the demo's photos in DIR. They are scikit-image's
# sample images as Debian packages them (python3-skimage); the package is
# downloaded from Debian's archive and unpacked, not installed. Their
# licences (public domain or CC0, per scikit-image's documentation) are in
# synth/demo/README.md, and Debian's copyright file is copied beside them.
set -euo pipefail
dir=$1
files="astronaut.png coffee.png ihc.png rocket.jpg hubble_deep_field.jpg retina.jpg chelsea.png brick.png grass.png"
mkdir -p "$dir"
if [ -f "$dir/.complete" ]; then exit 0; fi
src=/usr/lib/python3/dist-packages/skimage/data
if [ ! -f "$src/chelsea.png" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  if ! (cd "$work" && apt-get download python3-skimage >/dev/null 2>&1); then
    echo "photos.sh: refreshing apt's package lists to download python3-skimage" >&2
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -q >/dev/null
    (cd "$work" && apt-get download python3-skimage)
  fi
  dpkg-deb -x "$work"/python3-skimage_*.deb "$work/x"
  src="$work/x/usr/lib/python3/dist-packages/skimage/data"
  cp "$work/x/usr/share/doc/python3-skimage/copyright" "$dir/DEBIAN-COPYRIGHT"
fi
for f in $files; do
  cp "$src/$f" "$dir/"
done
touch "$dir/.complete"
echo "demo photos in $dir"
