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
while IFS=: read -r f line; do
  total=$((total + 1))
  cp "$f" "$f.orig"
  text=$(sed -n "${line}p" "$f" | sed -E 's/^ +//')
  sed -i "${line}s/.*/            ;/" "$f"
  if dotnet test tests/Synack.Tcp.Tests -v q --nologo 2>&1 | grep -qE 'Failed!|error'; then
    result=$(dotnet test tests/Synack.Tcp.Tests --no-build -v q --nologo 2>&1 | grep -E '^\s+Synack.*\[FAIL\]|^\s+Failed Synack' | head -1 | sed -E 's/^\s+(Failed )?//; s/ \[FAIL\]//')
    echo "killed   $(basename "$f"):$line  $text  <- $result"
  else
    survivors=$((survivors + 1))
    echo "SURVIVED $(basename "$f"):$line  $text"
  fi
  mv "$f.orig" "$f"
done < mutants.txt
echo "$total mutants, $survivors survived"
