#!/usr/bin/env bash
# Rotate and compress log files older than N days (smoke sample).
set -euo pipefail

readonly LOG_DIR="${LOG_DIR:-/var/log/myapp}"
readonly KEEP_DAYS=${KEEP_DAYS:-7}
declare -a rotated=()
declare -A sizes=()
verbose=0

usage() {
  cat <<USAGE
Usage: $(basename "$0") [-v] [-d days]
  -v        verbose output
  -d days   keep this many days (default: ${KEEP_DAYS})
USAGE
}

log() {
  if (( verbose )); then
    printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
  fi
}

while getopts ":vd:h" opt; do
  case "$opt" in
    v) verbose=1 ;;
    d) days="$OPTARG" ;;
    h) usage; exit 0 ;;
    \?) echo "unknown option -$OPTARG" >&2; usage; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

if [[ ! -d "$LOG_DIR" ]]; then
  echo "no such directory: $LOG_DIR" >&2
  exit 1
fi

trap 'log "interrupted"; exit 130' INT TERM

for file in "$LOG_DIR"/*.log; do
  [[ -e "$file" ]] || continue
  size=$(stat -c %s "$file" 2>/dev/null || echo 0)
  sizes["$file"]=$size
  if [[ $(find "$file" -mtime +"${days:-$KEEP_DAYS}" -print) ]]; then
    log "rotating ${file##*/} (${size} bytes)"
    gzip -9 -- "$file" && rotated+=("$file.gz")
  fi
done

total=0
for f in "${!sizes[@]}"; do
  total=$(( total + sizes[$f] ))
done

echo "rotated ${#rotated[@]} file(s), scanned $total bytes"
if [ ${#rotated[@]} -gt 0 ]; then
  printf '  %s\n' "${rotated[@]}"
fi
