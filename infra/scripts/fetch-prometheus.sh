#!/usr/bin/env bash
# Provides real `prometheus`, `promtool` (Debian trixie, 2.53) and `prometheus-alertmanager`
# (0.28) binaries for the tests,
# without touching the system: `apt-get download` through the machine's configured Debian
# mirror (read from its apt sources) with a private apt state, then `dpkg -x` into a cache
# directory. Prints the directory that holds the binaries.
#
#   infra/scripts/fetch-prometheus.sh          # -> .../.cache/prometheus/root/usr/bin
#   PROMETHEUS_CACHE=/some/dir infra/scripts/fetch-prometheus.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cache="${PROMETHEUS_CACHE:-$root/.cache/prometheus}"
bin="$cache/root/usr/bin"
# Debian's Alertmanager reads its default notification templates from this fixed path (a
# Debian patch; upstream embeds them): put the package's copies there if they are missing.
templates=/usr/share/prometheus/alertmanager
install_templates() {
  if [ ! -e "$templates/default.tmpl" ]; then
    if mkdir -p "$templates" 2>/dev/null \
      && cp "$cache/root$templates/"*.tmpl "$templates/" 2>/dev/null; then
      echo "fetch-prometheus: installed Alertmanager's templates into $templates" >&2
    else
      echo "fetch-prometheus: cannot write $templates (Debian's Alertmanager needs its templates there; run as root)" >&2
    fi
  fi
}

if [ -x "$bin/prometheus" ] && [ -x "$bin/promtool" ] && [ -x "$bin/prometheus-alertmanager" ]; then
  install_templates
  echo "$bin"
  exit 0
fi

# The Debian archive URI this machine uses: from deb822 .sources files or one-line .list
# files, skipping the security archive and third-party repositories.
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] || continue
  mirror=$(awk '
    /^URIs:/   { uris = $2 }
    /^Suites:/ { suites = $0 }
    /^$/       { if (uris != "" && uris !~ /security/ && suites ~ /(bookworm|trixie|bullseye|sid|stable|testing)/) { print uris; exit } uris = ""; suites = "" }
    END        { if (uris != "" && uris !~ /security/ && suites ~ /(bookworm|trixie|bullseye|sid|stable|testing)/) print uris }
  ' "$f" | head -n 1)
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '$1 == "deb" && $0 !~ /security/ && $0 ~ /(bookworm|trixie|bullseye|sid|stable|testing)/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }')
fi
if [ -z "$mirror" ]; then
  echo "fetch-prometheus: no Debian mirror found in /etc/apt/sources.list{,.d}" >&2
  exit 1
fi

work="$cache/apt"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$cache/root"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ -r "$keyring" ]; then
  echo "deb [signed-by=$keyring] $mirror trixie main" > "$work/sources.list"
else
  echo "deb $mirror trixie main" > "$work/sources.list"
fi
apt_opts=(
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "Debug::NoLocking=1"
  -o "APT::Sandbox::User=root"
)
echo "fetch-prometheus: downloading prometheus, promtool and alertmanager from $mirror (trixie)" >&2
apt-get "${apt_opts[@]}" -qq update >&2
(cd "$work" && apt-get "${apt_opts[@]}" -qq download prometheus promtool prometheus-alertmanager >&2)
for deb in "$work"/prometheus_*.deb "$work"/promtool_*.deb "$work"/prometheus-alertmanager_*.deb; do
  dpkg -x "$deb" "$cache/root"
done
"$bin/prometheus" --version >&2
install_templates
echo "$bin"
