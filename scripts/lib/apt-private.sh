# shellcheck shell=bash
# A private apt configuration for Debian suites newer than the installed bookworm
# (trixie, bookworm-backports). Packages are fetched with `apt-get download` and unpacked
# with `dpkg -x` into a cache folder outside the clone; nothing is installed over the system.
#
#   source scripts/lib/apt-private.sh
#   apt_private_fetch <dest-dir> <pkg>/<suite> ...   # downloads (cached) and unpacks into dest-dir
#
# TTRPC_CACHE (default ~/.cache/ttrpc-ts) holds the lists and the downloaded .deb files.
# A script that needs other suites (e.g. sid) sets APT_PRIVATE_SUITES and its own APT_PRIVATE_DIR
# before sourcing this file: the .deb cache is keyed by package name, so one name in two suites
# (ttrpc 1.2.4 in trixie, 1.2.7 in sid) needs two folders.

TTRPC_CACHE=${TTRPC_CACHE:-$HOME/.cache/ttrpc-ts}
APT_PRIVATE_DIR=${APT_PRIVATE_DIR:-"$TTRPC_CACHE/apt"}
APT_PRIVATE_SUITES=${APT_PRIVATE_SUITES:-"trixie bookworm-backports"}

apt_private_opts() {
  printf '%s\n' \
    -o "Dir::Etc::SourceList=$APT_PRIVATE_DIR/sources.list" \
    -o "Dir::Etc::SourceParts=/dev/null" \
    -o "Dir::State::Lists=$APT_PRIVATE_DIR/lists" \
    -o "Dir::Cache=$APT_PRIVATE_DIR/cache" \
    -o "APT::Get::List-Cleanup=0" \
    -o "Debug::NoLocking=1" \
    -o "APT::Sandbox::User=root"
}

# Downloads the package lists once (or when they are older than a week).
apt_private_update() {
  mkdir -p "$APT_PRIVATE_DIR/lists/partial" "$APT_PRIVATE_DIR/cache/archives/partial" "$APT_PRIVATE_DIR/debs"
  local suite
  for suite in $APT_PRIVATE_SUITES; do
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main"
  done >"$APT_PRIVATE_DIR/sources.list"
  local stamp="$APT_PRIVATE_DIR/lists/.updated"
  if [ -f "$stamp" ] && [ -z "$(find "$stamp" -mtime +7 2>/dev/null)" ]; then
    return 0
  fi
  local opts
  mapfile -t opts < <(apt_private_opts)
  apt-get "${opts[@]}" -qq update && touch "$stamp"
}

# apt_private_fetch DEST PKG/SUITE... : download each package once into the cache, unpack into DEST.
apt_private_fetch() {
  local dest=$1
  shift
  mkdir -p "$dest" "$APT_PRIVATE_DIR/debs"
  local opts spec name deb
  mapfile -t opts < <(apt_private_opts)
  for spec in "$@"; do
    name=${spec%%/*}
    deb=$(ls "$APT_PRIVATE_DIR/debs/${name}_"*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
      apt_private_update
      (cd "$APT_PRIVATE_DIR/debs" && apt-get "${opts[@]}" -qq download "$spec") || return 1
      deb=$(ls "$APT_PRIVATE_DIR/debs/${name}_"*.deb | head -n 1)
    fi
    dpkg -x "$deb" "$dest"
  done
}
