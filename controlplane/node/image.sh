#!/usr/bin/env bash
# Builds the real node's two container images offline, from Debian packages already installed on
# this machine (no registry, no container engine):
#   localhost/operon/busybox:<version>  /bin/busybox (busybox-static) with applet symlinks
#   localhost/operon/pause:<version>    catatonit -P, the Pod sandbox ("pause") process
# and packs both into one OCI image layout tarball that `ctr images import` loads.
# Output: $OPERON_CACHE/node-images/<key>/{images.tar,images.env}; <key> hashes this script and
# the package versions, so a warm machine skips the build. Prints the output folder on stdout.
#
# The layout is written by hand: one uncompressed layer tar per image (fixed owner and mtime, so
# the digest only changes when the content does), an image config, a manifest and an index whose
# entries carry the image name (io.containerd.image.name) and tag (org.opencontainers.image.ref.name).
set -euo pipefail

version_of() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
busybox_version="$(version_of busybox-static)"
catatonit_version="$(version_of catatonit)"
[ -n "$busybox_version" ] && [ -x /bin/busybox ] || { echo "image.sh: Debian package busybox-static is not installed" >&2; exit 1; }
[ -n "$catatonit_version" ] && [ -x /usr/bin/catatonit ] || { echo "image.sh: Debian package catatonit is not installed" >&2; exit 1; }

# A Debian version as an image tag: drop the epoch, anything outside [A-Za-z0-9_.-] becomes '-'.
tag_of() { sed -e 's/^[0-9]*://' -e 's/[^A-Za-z0-9_.-]/-/g' <<<"$1"; }
busybox_image="localhost/operon/busybox:$(tag_of "$busybox_version")"
pause_image="localhost/operon/pause:$(tag_of "$catatonit_version")"
arch="$(dpkg --print-architecture)" # amd64 and arm64 are spelled the same in OCI

key="$( (cat "${BASH_SOURCE[0]}"; echo "$busybox_version $catatonit_version $arch") | sha256sum | cut -c1-16)"
out="${OPERON_CACHE:-$HOME/.cache/operon}/node-images/$key"
if [ -f "$out/images.tar" ] && [ -f "$out/images.env" ]; then
  echo "$out"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
layout="$tmp/layout"
mkdir -p "$layout/blobs/sha256"

# Stores a file as a blob; prints "<digest> <size>".
blob() {
  local hex size
  hex="$(sha256sum "$1" | cut -c1-64)"
  size="$(stat -c %s "$1")"
  cp "$1" "$layout/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}

# Packs a root folder as a reproducible layer tar.
layer_tar() {
  tar --create --file "$2" --directory "$1" --sort=name --format=gnu \
    --mtime=@0 --owner=0 --group=0 --numeric-owner .
}

manifests=()
# image <name> <rootfs> <config "config" object, JSON>
image() {
  local name="$1" rootfs="$2" config="$3" layer cfg man
  layer_tar "$rootfs" "$tmp/layer.tar"
  read -r layer_digest layer_size < <(blob "$tmp/layer.tar")
  printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created_by":"controlplane/node/image.sh"}]}' \
    "$arch" "$config" "$layer_digest" >"$tmp/config.json"
  read -r cfg_digest cfg_size < <(blob "$tmp/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "$cfg_digest" "$cfg_size" "$layer_digest" "$layer_size" >"$tmp/manifest.json"
  read -r man_digest man_size < <(blob "$tmp/manifest.json")
  manifests+=("$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}' \
    "$man_digest" "$man_size" "$arch" "$name" "${name##*:}")")
}

# busybox: the applets the project's Pods use, plus passwd/group entries for root and nobody.
bb="$tmp/busybox"
mkdir -p "$bb/bin" "$bb/etc" "$bb/dev" "$bb/proc" "$bb/sys" "$bb/tmp" "$bb/root"
chmod 1777 "$bb/tmp"
chmod 0700 "$bb/root"
cp /bin/busybox "$bb/bin/busybox"
applets="$(/bin/busybox --list)"
for applet in sh cat date echo env false grep head id ls mkdir printf rm sleep tail touch true uname wc; do
  grep -qx "$applet" <<<"$applets" || { echo "image.sh: /bin/busybox has no applet $applet" >&2; exit 1; }
  ln -s busybox "$bb/bin/$applet"
done
# Debian's busybox-static has no printenv applet; this is printenv's documented behaviour in sh.
cat >"$bb/bin/printenv" <<'SH'
#!/bin/sh
# printenv [NAME...]: the whole environment, or the value of each NAME set; exit 1 if one is not.
[ $# -eq 0 ] && exec env
rc=0
for name in "$@"; do
  case "$name" in
    [!A-Za-z_]* | *[!A-Za-z0-9_]*) rc=1; continue ;;
  esac
  if eval "[ -n \"\${$name+set}\" ]"; then eval "printf '%s\\n' \"\$$name\""; else rc=1; fi
done
exit $rc
SH
chmod 0755 "$bb/bin/printenv"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$bb/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$bb/etc/group"
image "$busybox_image" "$bb" '{"Env":["PATH=/bin"],"Cmd":["sh"],"WorkingDir":"/"}'

# pause: catatonit in pause mode sleeps as the sandbox's first process until it is stopped.
pause="$tmp/pause"
mkdir -p "$pause/dev" "$pause/proc" "$pause/sys" "$pause/etc"
cp /usr/bin/catatonit "$pause/catatonit"
image "$pause_image" "$pause" '{"Entrypoint":["/catatonit","-P"],"WorkingDir":"/"}'

printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
(IFS=,; printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' "${manifests[*]}") >"$layout/index.json"

mkdir -p "$out"
tar --create --file "$tmp/images.tar" --directory "$layout" --sort=name --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner .
printf 'BUSYBOX_IMAGE=%s\nPAUSE_IMAGE=%s\n' "$busybox_image" "$pause_image" >"$tmp/images.env"
mv "$tmp/images.tar" "$out/images.tar"
mv "$tmp/images.env" "$out/images.env"
echo "image.sh: $(stat -c %s "$out/images.tar") bytes in $out/images.tar" >&2
echo "$out"
