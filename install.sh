#!/usr/bin/env bash
# warden installer. This first version only checks the machine; the full installer (program
# under /opt/warden, units, config, worker user) is built in a later issue.
set -euo pipefail
echo "install.sh: not yet complete: build with 'npm ci && npm run build' and see README.md" >&2
exit 1
