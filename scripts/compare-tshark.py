#!/usr/bin/env python3
"""Frame-by-frame comparison of `synack analyze` with tshark over a corpus of captures.

For every TCP frame tshark shows: tcp.stream, relative seq and ack, tcp.len and each of the fifteen
tcp.analysis flags must agree; per file, the conversation count must equal tshark's -z conv,tcp.

  scripts/compare-tshark.py [--synack PATH] [--jobs N] [--details OUT.json] FILE-OR-DIR...

Prints one line per file that disagrees, then a table per corpus directory and the totals.
Exit 0 when every file agrees, 1 otherwise. The captures stay outside the repository
(docs/capture-corpus.md lists where they come from).
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

FLAGS = [
    "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
    "lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
    "zero_window_probe_ack", "keep_alive", "keep_alive_ack", "window_update", "window_full",
    "reused_ports",
]
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".trace", ".dmp", ".pcap.gz", ".pcapng.gz", ".cap.gz", ".trace.gz", ".pcap.zst", ".pcapng.zst")
TIMEOUT = 300


def tshark_frames(path):
    cmd = ["tshark", "-n", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f",
           "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len"]
    for f in FLAGS:
        cmd += ["-e", "tcp.analysis." + f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT).stdout
    frames = {}
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) < 5 + len(FLAGS) or not cols[1]:
            continue
        flags = frozenset(f for f, v in zip(FLAGS, cols[5:]) if v)
        frames[int(cols[0])] = (int(cols[1]), int(cols[2] or 0), int(cols[3] or 0), int(cols[4] or 0), flags)
    return frames


def tshark_conversations(path):
    out = subprocess.run(["tshark", "-n", "-r", path, "-q", "-z", "conv,tcp"], capture_output=True, text=True, timeout=TIMEOUT).stdout
    return sum(1 for line in out.splitlines() if "<->" in line)


def synack_frames(synack, path):
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        proc = subprocess.run(synack + ["analyze", path, "--format", "json", "--partial", "--out", tmp.name],
                              capture_output=True, text=True, timeout=TIMEOUT)
        if proc.returncode not in (0, 1):
            return None, 0, f"exit {proc.returncode}: {proc.stderr.strip()[:200]}"
        try:
            with open(tmp.name) as f:
                doc = json.load(f)
        except (ValueError, OSError) as e:
            return None, 0, f"bad json: {e}; {proc.stderr.strip()[:200]}"
    frames = {}
    for p in doc.get("packets", []):
        frames.setdefault(p["frame"], (p["stream"], p["seq"], p["ack"], p["len"], frozenset(p["findings"]) & set(FLAGS)))
    return frames, len(doc.get("connections", [])), None


def tshark_cached(path, cache):
    """tshark's view of a file never changes: kept in CACHE (keyed by the file's content) between runs."""
    key = None
    if cache:
        import hashlib
        with open(path, "rb") as f:
            key = os.path.join(cache, hashlib.sha256(f.read()).hexdigest() + ".json")
        if os.path.exists(key):
            with open(key) as f:
                d = json.load(f)
            return {int(k): (v[0], v[1], v[2], v[3], frozenset(v[4])) for k, v in d["frames"].items()}, d["convs"]
    frames, convs = tshark_frames(path), tshark_conversations(path)
    if key:
        os.makedirs(cache, exist_ok=True)
        with open(key + ".tmp", "w") as f:
            json.dump({"frames": {k: [*v[:4], sorted(v[4])] for k, v in frames.items()}, "convs": convs}, f)
        os.replace(key + ".tmp", key)
    return frames, convs


def compare(synack, path, cache=None):
    try:
        theirs, their_convs = tshark_cached(path, cache)
        ours, our_convs, err = synack_frames(synack, path)
    except subprocess.TimeoutExpired as e:
        return path, {"error": f"timeout: {e.cmd[0]}"}
    if ours is None:
        return path, {"error": err, "frames": len(theirs)}
    why = Counter()
    examples = []
    agree = 0
    for n, t in theirs.items():
        o = ours.get(n)
        if o == t:
            agree += 1
            continue
        if o is None:
            reasons = ["missing"]
        else:
            reasons = [name for name, a, b in zip(("stream", "seq", "ack", "len"), o, t) if a != b]
            reasons += [f"+{f}" for f in sorted(o[4] - t[4])] + [f"-{f}" for f in sorted(t[4] - o[4])]
        why.update(reasons)
        if len(examples) < 5:
            examples.append({"frame": n, "tshark": fmt(t), "synack": fmt(o) if o else None})
    # tshark's conversation table skips a packet whose dissection threw before its tap (TCP options cut
    # by the snap length, a malformed MPTCP option) though tshark numbers its tcp.stream: the streams
    # tshark itself numbers are the second reference.
    their_streams = len({t[0] for t in theirs.values()})
    return path, {"frames": len(theirs), "agree": agree, "convs": (our_convs, their_convs), "streams": their_streams, "why": dict(why), "examples": examples}


def fmt(r):
    return {"stream": r[0], "seq": r[1], "ack": r[2], "len": r[3], "flags": sorted(r[4])}


def captures(args):
    for a in args:
        if os.path.isdir(a):
            for root, _, files in os.walk(a):
                for f in sorted(files):
                    if f.lower().endswith(CAPTURE_SUFFIXES):
                        yield os.path.join(root, f)
        else:
            yield a


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--synack", default="synack", help="the synack command (may be 'dotnet path/synack.dll')")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--details", help="write every file's result here (JSON)")
    ap.add_argument("--cache", help="keep tshark's answers here between runs")
    args = ap.parse_args()
    synack = args.synack.split()
    files = list(captures(args.paths))
    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for path, r in pool.map(lambda p: compare(synack, p, args.cache), files):
            results[path] = r
    groups = defaultdict(lambda: Counter())
    why_all = Counter()
    bad_files = 0
    for path, r in sorted(results.items()):
        g = groups[os.path.dirname(path)]
        g["files"] += 1
        if "error" in r:
            bad_files += 1
            g["errors"] += 1
            g["frames"] += r.get("frames", 0)
            print(f"{path}: {r['error']}")
            continue
        g["frames"] += r["frames"]
        g["agree"] += r["agree"]
        if r["frames"]:
            g["tcp files"] += 1
        conv_ok = r["convs"][0] == r["convs"][1]
        if not conv_ok:
            g["conv mismatches"] += 1
            if r["convs"][0] != r.get("streams"):
                g["stream mismatches"] += 1
        why_all.update(r["why"])
        if r["agree"] != r["frames"] or not conv_ok:
            bad_files += 1
            print(f"{path}: {r['agree']}/{r['frames']} frames agree, conversations {r['convs'][0]} vs tshark {r['convs'][1]} (streams it numbers {r.get('streams')}); {dict(Counter(r['why']).most_common(6))}")
    print()
    print("| corpus | files | with TCP | TCP frames | agree | % | conversations differ from -z conv,tcp | and from the tcp.stream numbers tshark shows |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    tot = Counter()
    for d, g in sorted(groups.items()):
        tot.update(g)
        pct = 100.0 * g["agree"] / g["frames"] if g["frames"] else 100.0
        print(f"| {d} | {g['files']} | {g['tcp files']} | {g['frames']:,} | {g['agree']:,} | {pct:.2f} | {g['conv mismatches']} | {g['stream mismatches']} |")
    pct = 100.0 * tot["agree"] / tot["frames"] if tot["frames"] else 100.0
    print(f"| all | {tot['files']} | {tot['tcp files']} | {tot['frames']:,} | {tot['agree']:,} | {pct:.2f} | {tot['conv mismatches']} | {tot['stream mismatches']} |")
    print()
    print("differences (frames):", ", ".join(f"{k} {v}" for k, v in why_all.most_common()))
    if args.details:
        with open(args.details, "w") as f:
            json.dump(results, f, indent=1, default=list)
    return 1 if bad_files else 0


if __name__ == "__main__":
    sys.exit(main())
