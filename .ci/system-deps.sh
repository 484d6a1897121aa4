#!/usr/bin/env bash
# Installs the Debian packages Kepu needs, only those still missing, so a second
# `make build` does not touch apt at all.
#   fonts-noto-cjk          CJK glyphs for print, video and screenshots
#   libpango-1.0-0 …        WeasyPrint's text layout (print renderer)
#   chromium                headless browser for the site tests (Playwright drives it)
#   ffmpeg                  video encoding and probing
#   espeak-ng               optional video narration (video.narration: espeak)
#   poppler-utils           pdftoppm/pdftotext for previews and tests
#   libgs-common            Ghostscript's CMYK ICC profile: the print shop's PDFs are converted for it
set -euo pipefail
packages=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 chromium ffmpeg espeak-ng poppler-utils libgs-common)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
