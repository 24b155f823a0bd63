#!/usr/bin/env bash
# Release artifacts in the layout the Terraform Registry serves, in dist/:
#
#   terraform-provider-planton_VERSION_OS_ARCH.zip   one per platform built,
#       holding the binary terraform-provider-planton_vVERSION (.exe on Windows)
#   terraform-provider-planton_VERSION_manifest.json  terraform-registry-manifest.json
#   terraform-provider-planton_VERSION_SHA256SUMS     the zips' and manifest's SHA-256
#   terraform-provider-planton_VERSION_SHA256SUMS.sig its detached GPG signature
#
#   GPG_FINGERPRINT=KEY [GNUPGHOME=DIR] scripts/release.sh VERSION
#
# For tests and CI only, two variables change what is built and where:
#
#   RELEASE_BINARY=FILE  package this already-built binary as the host's
#                        platform, the only one, instead of building release
#                        binaries (the e2e tests pass the one cargo built)
#   RELEASE_DIST=DIR     write to DIR (created; it must not exist or be
#                        empty) instead of replacing dist/
#
# VERSION must be the crate's version (Cargo.toml is its one source). The
# signing key is the one GPG_FINGERPRINT names in the keyring of GNUPGHOME
# (gpg's default keyring without it), as in HashiCorp's provider release
# workflow. Use an RSA key: HashiCorp's registries take RSA and DSA signing
# keys, not ECC ones. Platforms whose Rust target is
# not installed here are named and skipped (`rustup target add` them, with
# a linker for them, to build them).
set -euo pipefail
caller=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# A path as the caller meant it, whatever our working directory.
from_caller() { if [[ $1 == /* ]]; then echo "$1"; else echo "$caller/$1"; fi; }

name=terraform-provider-planton
usage() {
    echo "usage: GPG_FINGERPRINT=KEY [GNUPGHOME=DIR] $0 VERSION" >&2
    exit 2
}
[[ $# -eq 1 ]] || usage
version=$1
crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
if [[ $version != "$crate_version" ]]; then
    echo "release.sh: VERSION $version is not the crate's version $crate_version (Cargo.toml)" >&2
    exit 2
fi
[[ -n ${GPG_FINGERPRINT:-} ]] || { echo "release.sh: GPG_FINGERPRINT names no signing key" >&2; exit 2; }
prebuilt=""
if [[ -n ${RELEASE_BINARY:-} ]]; then
    prebuilt=$(from_caller "$RELEASE_BINARY")
    [[ -f $prebuilt && -x $prebuilt ]] || {
        echo "release.sh: RELEASE_BINARY $prebuilt is not an executable file" >&2
        exit 1
    }
fi
dist=dist
if [[ -n ${RELEASE_DIST:-} ]]; then
    dist=$(from_caller "$RELEASE_DIST")
    if [[ -e $dist ]] && [[ ! -d $dist || -n $(ls -A "$dist") ]]; then
        echo "release.sh: RELEASE_DIST $dist exists and is not an empty directory" >&2
        exit 1
    fi
fi
for tool in cargo gpg zip sha256sum; do
    command -v "$tool" >/dev/null || { echo "release.sh: $tool is needed and not found" >&2; exit 1; }
done
gpg --batch --list-secret-keys "$GPG_FINGERPRINT" >/dev/null 2>&1 || {
    echo "release.sh: no secret key $GPG_FINGERPRINT in ${GNUPGHOME:-the default keyring}" >&2
    exit 1
}

# Registry platform (OS_ARCH) and its Rust target.
platforms=(
    "linux_amd64 x86_64-unknown-linux-gnu"
    "linux_arm64 aarch64-unknown-linux-gnu"
    "darwin_amd64 x86_64-apple-darwin"
    "darwin_arm64 aarch64-apple-darwin"
    "windows_amd64 x86_64-pc-windows-msvc"
)
host=$(rustc -vV | sed -n 's/^host: //p')
installed=$(rustup target list --installed 2>/dev/null || echo "$host")

[[ -n ${RELEASE_DIST:-} ]] || rm -rf dist
mkdir -p "$dist"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
built=0
for entry in "${platforms[@]}"; do
    read -r platform target <<<"$entry"
    if [[ -n $prebuilt ]]; then
        [[ $target == "$host" ]] || continue
    elif ! grep -qx "$target" <<<"$installed"; then
        echo "release.sh: skipping $platform: the Rust target $target is not installed" >&2
        continue
    fi
    printf '\n==> %s (%s)\n' "$platform" "$target" >&2
    exe=""
    [[ $platform == windows_* ]] && exe=.exe
    binary=$prebuilt
    # The host's build goes where `cargo build --release` puts it.
    if [[ -z $binary && $target == "$host" ]]; then
        cargo build --locked --release --bin "$name"
        binary=target/release/$name$exe
    elif [[ -z $binary ]]; then
        cargo build --locked --release --bin "$name" --target "$target"
        binary=target/$target/release/$name$exe
    fi
    mkdir -p "$work/$platform"
    cp "$binary" "$work/$platform/${name}_v$version$exe"
    # -X: no extra file attributes, so the archive holds the binary alone.
    (cd "$work/$platform" && zip -q -X "../${name}_${version}_${platform}.zip" "${name}_v$version$exe")
    mv "$work/${name}_${version}_${platform}.zip" "$dist/"
    built=$((built + 1))
done
[[ $built -gt 0 ]] || { echo "release.sh: no platform could be built" >&2; exit 1; }

cp terraform-registry-manifest.json "$dist/${name}_${version}_manifest.json"
(cd "$dist" && sha256sum -- *.zip "${name}_${version}_manifest.json" >"${name}_${version}_SHA256SUMS")
gpg --batch --yes --local-user "$GPG_FINGERPRINT" --output "$dist/${name}_${version}_SHA256SUMS.sig" \
    --detach-sign "$dist/${name}_${version}_SHA256SUMS"

printf '\n==> %s/\n' "$dist" >&2
ls -1 "$dist" >&2
