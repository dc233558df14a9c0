#!/usr/bin/env bash
# Deletes each state transition of the connection, one at a time, and runs the protocol tests.
# Every mutant must be killed (some test fails). Runs on a copy of the tree; prints one line per mutant.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src"/. "$work"/
rm -rf "$work"/.git
cd "$work"
dotnet build tests/Synack.Tcp.Tests -v q >/dev/null 2>&1 || { echo "baseline build failed"; exit 1; }
survivors=0; total=0
for f in src/Synack.Tcp/Connection*.cs; do
  grep -nE '(SetState\(TcpState\.|EnterClosed\(|EnterTimeWait\(|ReturnToListen\()' "$f" | grep -vE 'private void|///' | while IFS=: read -r line _; do
    echo "$f:$line"
  done
done > mutants.txt
# The transitions are found by the names of the methods that make them: a rename must not leave a
# run that checks nothing and reports success.
if [ ! -s mutants.txt ]; then
  echo "no transitions found in src/Synack.Tcp/Connection*.cs (SetState/EnterClosed/EnterTimeWait/ReturnToListen renamed?)"
  exit 1
fi
while IFS=: read -r f line; do
  total=$((total + 1))
  cp "$f" "$f.orig"
  text=$(sed -n "${line}p" "$f" | sed -E 's/^ +//')
  # Only the call goes: "if (x) EnterClosed(...);" becomes "if (x) { }", so the mutant still compiles.
  sed -i -E "${line}s/(SetState|EnterClosed|EnterTimeWait|ReturnToListen)\(.*\);/{ }/" "$f"
  out=$(dotnet test tests/Synack.Tcp.Tests --nologo 2>&1)
  if [ $? -ne 0 ]; then
    first=$(echo "$out" | grep -E '\[FAIL\]' | head -1 | sed -E 's/.*Synack\.Tcp\.Tests\.//; s/ \[FAIL\]//')
    n=$(echo "$out" | grep -cE '\[FAIL\]')
    echo "killed   $(basename "$f"):$line  $text  <- $n tests, e.g. ${first:-build error}"
  else
    survivors=$((survivors + 1))
    echo "SURVIVED $(basename "$f"):$line  $text"
  fi
  mv "$f.orig" "$f"
done < mutants.txt
echo "$total mutants, $survivors survived"
[ "$survivors" -eq 0 ]
