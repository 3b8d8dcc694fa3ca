#!/usr/bin/env bash
# set-latency.sh [BERTH]: how long `berth set NAME --cpus X` takes on a running instance
# (issue 4's benchmark), measured where the cpu controller exists: in the VM tier's guest
# (Debian's 6.1 kernel under qemu TCG, tests/vm/run-vm.sh). In the same run, as the
# reference, `berth status NAME --json` (the same process start, lock-free read of config
# and state) and a plain shell writing cpu.max itself (what `set` does, without berth).
# TCG makes every absolute figure slow; read the ratios. Needs what the VM tier needs.
set -euo pipefail
BERTH=$(realpath -e "${1:-build/cli/berth}")
here=$(dirname "${BASH_SOURCE[0]}")
exec "$here/../vm/run-vm.sh" --timeout 600 "$here/set-latency.guest.sh" "$BERTH"
