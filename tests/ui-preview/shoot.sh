#!/usr/bin/env bash
# Screenshots of every screen/state of the real ui/ against mock-tauri.js, in Korean and
# English, light and dark, written to target/ui-preview/<name>-<lang>-<scheme>.png.
#   tests/ui-preview/shoot.sh            # all
#   tests/ui-preview/shoot.sh signed_in  # only shots whose name contains "signed_in"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/ui-preview"
port="${UI_PREVIEW_PORT:-8765}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
filter="${1:-}"
mkdir -p "$out"

python3 "$here/serve.py" --port "$port" >/dev/null 2>&1 &
server=$!
profile="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null; rm -rf "$profile"' EXIT
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
  sleep 0.1
done

# name | query | window height
shots=(
  "restoring|state=restoring|760"
  "unconfigured|state=unconfigured|1000"
  "signed-out|state=signed_out|760"
  "signed-out-real|state=signed_out_real|760"
  "signed-out-focus|state=signed_out&focus=%23signin-other-account|760"
  "signed-out-error-koe006|state=signed_out_error|760"
  "signed-out-notice-s05|state=signed_out_notice|760"
  "waiting|state=waiting|760"
  "waiting-consent|state=waiting_consent|760"
  "waiting-kakao-logout|state=waiting_kakao_logout|760"
  "completing|state=completing|760"
  "signed-in|state=signed_in|1500"
  "signed-in-consents|state=signed_in_consents&click=%23fields-not-requested-summary|2000"
  "signed-in-minimal|state=signed_in_minimal|1300"
  "signed-in-clock|state=signed_in_clock|1300"
  "dialog-logout|state=signed_in&click=%23logout,%23logout-kakao-account|760"
  "dialog-unlink|state=signed_in&click=%23unlink|760"
  "dialog-withdraw|state=signed_in_consents&click=%23consent-account_email-withdraw|760"
  "offline|state=offline|760"
  "no-keychain|state=no_keychain|900"
  "no-keychain-locked|state=no_keychain_locked|900"
)

n=0
for shot in "${shots[@]}"; do
  IFS='|' read -r name query height <<<"$shot"
  [[ -n "$filter" && "$name" != *"$filter"* ]] && continue
  for lang in ko en; do
    for scheme in light dark; do
      extra=()
      [[ "$scheme" == dark ]] && extra+=(--force-dark-mode --blink-settings=forceDarkModeEnabled=false)
      file="$out/$name-$lang-$scheme.png"
      # virtual-time-budget lets timers run (the KOE006 help appears after 8 s of waiting).
      "$chromium" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --hide-scrollbars --window-size="520,$height" \
        --virtual-time-budget=10000 "${extra[@]}" \
        --screenshot="$file" "http://127.0.0.1:$port/?$query&lang=$lang" >/dev/null 2>&1
      n=$((n + 1))
    done
  done
done
echo "wrote $n screenshots to $out"
