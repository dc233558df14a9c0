#!/usr/bin/env bash
# Coverage-guided fuzzing of one target (packet, capture, packetdrill, stack) under afl-fuzz, with
# SharpFuzz's instrumentation, for a number of minutes; it stops by itself. Crashes it finds are
# copied to fuzz/regressions/TARGET/, where the tests replay them (FuzzRegressionTests).
#   scripts/fuzz.sh stack 30
# Needs afl++ (apt-get install afl++) and SharpFuzz's tool (dotnet tool install -g SharpFuzz.CommandLine).
set -euo pipefail
target=${1:?usage: scripts/fuzz.sh TARGET [MINUTES]   targets: packet capture packetdrill stack}
minutes=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${FUZZ_OUT:-/tmp/synack-fuzz}/$target
export PATH="$PATH:$HOME/.dotnet/tools"
command -v afl-fuzz >/dev/null || { echo "afl-fuzz is missing: apt-get install afl++" >&2; exit 2; }
command -v sharpfuzz >/dev/null || { echo "sharpfuzz is missing: dotnet tool install -g SharpFuzz.CommandLine" >&2; exit 2; }

rm -rf "$out/bin"
dotnet publish "$root/fuzz/Synack.Fuzz" -c Release -o "$out/bin" >/dev/null
# Instrument our assemblies (not the runtime's): afl sees which branches of the stack an input takes.
for dll in Synack.Wire Synack.Tcp Synack.Stack Synack.Conformance Synack.Analysis; do sharpfuzz "$out/bin/$dll.dll" >/dev/null; done

# A resumed run keeps what it learnt; a fresh one starts from the committed corpus.
# FUZZ_SEEDS names a directory of more seeds (public captures, say) that stay outside the repository.
input="$root/fuzz/corpus/$target"
if [ -n "${FUZZ_SEEDS:-}" ]; then
  mkdir -p "$out/seeds" && cp "$root/fuzz/corpus/$target"/* "$FUZZ_SEEDS"/* "$out/seeds/" && input="$out/seeds"
fi
[ -d "$out/findings/default/queue" ] && input=-
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
afl-fuzz -i "$input" -o "$out/findings" -V $((minutes * 60)) -t 10000 -m none -- "$out/bin/synack-fuzz" "$target" || true

crashes=("$out"/findings/default/crashes/id*)
if [ -e "${crashes[0]}" ]; then
  mkdir -p "$root/fuzz/regressions/$target"
  cp "${crashes[@]}" "$root/fuzz/regressions/$target/"
  echo "${#crashes[@]} crash(es) copied to fuzz/regressions/$target"
fi
grep -E "run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs" "$out/findings/default/fuzzer_stats" 2>/dev/null || true
