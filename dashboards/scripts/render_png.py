"""Draw dashboard panels (data queried from Prometheus by dashboard-png.ts) into one PNG.

Usage: render_png.py <panels.json> <out.png>. Grafana-like dark theme; SLO thresholds as red
dashed lines, as the dashboards draw them.
"""
import json
import sys
from datetime import datetime, timezone

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

BG, PANEL, GRID, TEXT, DIM = "#111217", "#181b1f", "#2c3235", "#d8d9da", "#8e8e8e"
PALETTE = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#fade2a"]


def fmt(unit):
    if unit == "s":
        return FuncFormatter(lambda v, _: f"{v * 1000:.0f} ms" if v < 1 else f"{v:.1f} s")
    if unit == "percentunit":
        return FuncFormatter(lambda v, _: f"{v * 100:.1f} %")
    if unit == "bytes":
        return FuncFormatter(lambda v, _: f"{v / 1048576:.0f} MiB")
    return FuncFormatter(lambda v, _: f"{v:.0f}" if abs(v) >= 10 or v == 0 else f"{v:.1f}")


def main(src, out):
    spec = json.load(open(src))
    panels = spec["panels"]
    cols = 3
    rows = (len(panels) + cols - 1) // cols
    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8})
    fig, axes = plt.subplots(rows, cols, figsize=(16, 3.1 * rows + 0.6), facecolor=BG)
    fig.suptitle(spec["title"], color=TEXT, fontsize=13, x=0.01, ha="left", y=0.995)
    fig.text(0.01, 0.962, spec["subtitle"], color=DIM, fontsize=8.5, ha="left", va="top")
    for ax, p in zip(axes.flat, panels):
        ax.set_facecolor(PANEL)
        for s in ax.spines.values():
            s.set_color(GRID)
        ax.grid(True, color=GRID, linewidth=0.6)
        ax.tick_params(colors=DIM, labelsize=7)
        ax.set_title(p["title"], color=TEXT, fontsize=9.5, loc="left")
        for i, s in enumerate(p["series"]):
            if not s["points"]:
                continue
            xs = [datetime.fromtimestamp(t, timezone.utc) for t, _ in s["points"]]
            ys = [v for _, v in s["points"]]
            color = PALETTE[i % len(PALETTE)]
            if p.get("stack"):
                ax.fill_between(xs, ys, alpha=0.18, color=color, linewidth=0)
            ax.plot(xs, ys, color=color, linewidth=1.3, label=s["legend"])
        if p.get("threshold") is not None:
            ax.axhline(p["threshold"], color="#f2495c", linestyle="--", linewidth=1, label=p.get("thresholdLabel", "SLO"))
        ax.yaxis.set_major_formatter(fmt(p.get("unit")))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
        ax.set_ylim(bottom=0)
        if p["series"]:
            ax.legend(loc="upper left", fontsize=7, facecolor=PANEL, edgecolor=GRID, labelcolor=TEXT, ncol=2, framealpha=0.8)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(out, dpi=90, facecolor=BG)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
