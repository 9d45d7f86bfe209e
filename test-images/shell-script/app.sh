#!/bin/bash
# A shell application: bash and coreutils, nothing else.
set -euo pipefail
words=(scratch images are small)
printf '%s\n' "${words[@]}" | sort | tr 'a-z' 'A-Z' | paste -sd ' '
echo "lines: $(seq 1 5 | wc -l), sum: $(( $(seq 1 5 | paste -sd+) ))"
if [ "${1:-}" = "--check" ]; then echo "check ok"; fi
