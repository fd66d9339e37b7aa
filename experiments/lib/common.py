"""Reading vecrl run folders and drawing small SVG charts, for experiments/*/summarize.py.

Standard library only (the machine gets packages from Debian alone, and the summaries must run
wherever the runs did).
"""
import glob
import json
import math
import os
import re
import statistics

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def metrics(run_dir):
    """Every line of <run>/metrics.jsonl (training steps and evaluation lines)."""
    return read_jsonl(os.path.join(run_dir, "metrics.jsonl"))


def train_series(run_dir, key):
    """(steps, values) of a training metric."""
    rows = [r for r in metrics(run_dir) if key in r and "step" in r]
    return [r["step"] for r in rows], [r[key] for r in rows]


def last_eval(run_dir, key):
    """The value of an eval/... metric at the last evaluation that logged it."""
    rows = [r for r in metrics(run_dir) if key in r]
    if not rows:
        raise KeyError(f"{run_dir}/metrics.jsonl has no {key}")
    return rows[-1][key]


def first_eval(run_dir, key):
    rows = [r for r in metrics(run_dir) if key in r]
    if not rows:
        raise KeyError(f"{run_dir}/metrics.jsonl has no {key}")
    return rows[0][key]


def window_mean(values, first, count):
    part = values[first:first + count] if first >= 0 else values[first:]
    return sum(part) / len(part)


def mean_std(values):
    values = list(values)
    if len(values) == 1:
        return {"mean": values[0], "std": 0.0, "n": 1, "values": values}
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values), "n": len(values), "values": values}


def fmt(stat, digits=3):
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def group_size(run_dir):
    """rollout.group_size from the run's resolved config.yaml."""
    with open(os.path.join(run_dir, "config.yaml")) as f:
        match = re.search(r"^rollout:\n(?:  .*\n)*?  group_size: (\d+)", f.read(), re.M)
    if not match:
        raise KeyError(f"{run_dir}/config.yaml has no rollout.group_size")
    return int(match.group(1))


def fmean_or_nan(values):
    values = list(values)
    return statistics.fmean(values) if values else float("nan")


def samples_by_step(run_dir):
    """{step: [sample, ...]} from <run>/samples.jsonl, each list ordered by rollout index."""
    by_step = {}
    for s in read_jsonl(os.path.join(run_dir, "samples.jsonl")):
        by_step.setdefault(s["step"], []).append(s)
    for rows in by_step.values():
        rows.sort(key=lambda s: s["rollout"])
    return by_step


def evaluations(run_dir):
    """{step: path} of the run's evaluation reports (<run>/eval/<name>_step_<N>.json)."""
    out = {}
    for path in glob.glob(os.path.join(run_dir, "eval", "*_step_*.json")):
        out[int(path.rsplit("_", 1)[1].split(".")[0])] = path
    return out


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")


def hypervolume_2d(points, reference=(0.0, 0.0)):
    """Area dominated by `points` (both objectives maximised) above `reference`."""
    front = sorted({(x, y) for x, y in points if x > reference[0] and y > reference[1]}, key=lambda p: (-p[0], -p[1]))
    area, best_y = 0.0, reference[1]
    for x, y in front:  # sweeping from the largest x down, each point adds the strip above the best y so far
        if y > best_y:
            area += (x - reference[0]) * (y - best_y)
            best_y = y
    return area


class Chart:
    """A minimal SVG chart: lines with optional bands, or scatter points, with axes and a legend."""

    def __init__(self, title, xlabel, ylabel, width=520, height=340):
        self.title, self.xlabel, self.ylabel = title, xlabel, ylabel
        self.width, self.height = width, height
        self.items = []

    def line(self, xs, ys, label, color, band=None, dashed=False):
        self.items.append(("line", xs, ys, label, color, band, dashed))

    def points(self, xs, ys, label, color, errors=None, connect=False):
        self.items.append(("points", xs, ys, label, color, errors, connect))

    def _range(self, axis):
        values = []
        for kind, xs, ys, _, _, extra, _ in self.items:
            values += xs if axis == 0 else ys
            if axis == 1 and extra and kind == "line":
                values += [v for pair in extra for v in pair]
            if extra and kind == "points":
                errs = extra[axis] if extra[axis] else [0] * len(xs)
                base = xs if axis == 0 else ys
                values += [b + e for b, e in zip(base, errs)] + [b - e for b, e in zip(base, errs)]
        lo, hi = min(values), max(values)
        if hi - lo < 1e-12:
            lo, hi = lo - 0.5, hi + 0.5
        pad = 0.05 * (hi - lo)
        return lo - pad, hi + pad

    def save(self, path):
        left, right, top, bottom = 60, 150, 30, 45
        pw, ph = self.width - left - right, self.height - top - bottom
        (x0, x1), (y0, y1) = self._range(0), self._range(1)
        sx = lambda x: left + (x - x0) / (x1 - x0) * pw
        sy = lambda y: top + ph - (y - y0) / (y1 - y0) * ph
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" height="{self.height}" '
               f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>',
               f'<text x="{left}" y="18" font-size="13">{self.title}</text>',
               f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>']
        for i in range(6):
            xv, yv = x0 + (x1 - x0) * i / 5, y0 + (y1 - y0) * i / 5
            out.append(f'<text x="{sx(xv):.1f}" y="{top + ph + 14}" text-anchor="middle">{xv:.3g}</text>')
            out.append(f'<text x="{left - 4}" y="{sy(yv) + 4:.1f}" text-anchor="end">{yv:.3g}</text>')
            out.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(yv):.1f}" y2="{sy(yv):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left + pw / 2}" y="{self.height - 8}" text-anchor="middle">{self.xlabel}</text>')
        out.append(f'<text x="14" y="{top + ph / 2}" transform="rotate(-90 14 {top + ph / 2})" '
                   f'text-anchor="middle">{self.ylabel}</text>')
        for n, (kind, xs, ys, label, color, extra, flag) in enumerate(self.items):
            if kind == "line":
                if extra:
                    upper = " ".join(f"{sx(x):.1f},{sy(hi):.1f}" for x, (lo, hi) in zip(xs, extra))
                    lower = " ".join(f"{sx(x):.1f},{sy(lo):.1f}" for x, (lo, hi) in reversed(list(zip(xs, extra))))
                    out.append(f'<polygon points="{upper} {lower}" fill="{color}" opacity="0.15"/>')
                dash = ' stroke-dasharray="5,3"' if flag else ""
                pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs, ys))
                out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.6"{dash}/>')
            else:
                if flag:
                    pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(zip(xs, ys)))
                    out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1"/>')
                for i, (x, y) in enumerate(zip(xs, ys)):
                    if extra:
                        ex = extra[0][i] if extra[0] else 0
                        ey = extra[1][i] if extra[1] else 0
                        out.append(f'<line x1="{sx(x - ex):.1f}" x2="{sx(x + ex):.1f}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="{color}"/>')
                        out.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{sy(y - ey):.1f}" y2="{sy(y + ey):.1f}" stroke="{color}"/>')
                    out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{color}"/>')
            ly = top + 12 + 16 * n
            out.append(f'<rect x="{left + pw + 10}" y="{ly - 8}" width="10" height="10" fill="{color}"/>')
            out.append(f'<text x="{left + pw + 24}" y="{ly + 1}">{label}</text>')
        out.append("</svg>")
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")


def mean_band(series_list):
    """Per-step mean and (mean - std, mean + std) over runs whose series share their steps."""
    n = min(len(s) for s in series_list)
    means, band = [], []
    for i in range(n):
        column = [s[i] for s in series_list]
        m = statistics.fmean(column)
        sd = statistics.stdev(column) if len(column) > 1 else 0.0
        means.append(m)
        band.append((m - sd, m + sd))
    return means, band


def smooth(values, window):
    out = []
    for i in range(len(values)):
        part = values[max(0, i - window + 1):i + 1]
        out.append(sum(part) / len(part))
    return out


def is_close(a, b, tol=1e-5):
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)
