"""Loss curves readers can review: one panel per metric with its unit, whole-epoch ticks, logs in mm."""

import pytest

from mdtf_lite.viz.train_plots import METRICS, LiveLossPlot, format_epoch, in_display_units, loss_curve_figure

BAM = [{"epoch": e, "train_loss": 1.0 / e, "val_accuracy": 0.4 + 0.1 * e} for e in (1, 2, 3)]
MDTF = [{"epoch": e, "train_loss": 2.0 / e, "val_p1_mm": 300.0 / e, "train_mpjpe": 0.3 / e} for e in (1, 2, 3)]


def test_accuracy_and_mpjpe_never_share_an_axis():
    fig = loss_curve_figure({"BAM": BAM, "MDTF": MDTF})
    axes = {t.yaxis for t in fig.data}
    assert axes == {"y", "y2", "y3"}, "training loss, P1 (mm), accuracy (%): three y axes"
    assert all(len(t.y) for t in fig.data), "no empty line for a metric a run does not have"
    titles = [fig.layout[f"yaxis{'' if i == 1 else i}"].title.text for i in (1, 2, 3)]
    assert titles == [METRICS[k][1] for k in ("train_loss", "val_p1_mm", "val_accuracy")]
    acc = [t for t in fig.data if t.yaxis == "y3"]
    assert acc and max(acc[0].y) == pytest.approx(70.0), "accuracy shown in %"


def test_epoch_ticks_are_whole_numbers():
    fig = loss_curve_figure({"MDTF": MDTF})
    for name in ("xaxis", "xaxis2"):
        ax = fig.layout[name]
        assert ax.tickmode == "linear" and ax.dtick >= 1 and float(ax.dtick).is_integer() and ax.tick0 == 1
        assert ax.title.text == "epoch"
    many = [{"epoch": e, "train_loss": 1.0} for e in range(1, 101)]
    assert loss_curve_figure({"r": many}).layout.xaxis.dtick > 1, "not 100 tick labels"


def test_live_plot_has_no_placeholder_and_grows():
    live = LiveLossPlot("run")
    assert all(len(t.x or ()) == 0 for t in live.widget.data), "starts empty: no NaN placeholder point"
    assert "NaN" not in live.widget.to_json(), "NaN is not JSON: the kernel warned on every display"
    for rec in MDTF:
        live(rec)
    p1 = [t for t in live.widget.data if t.yaxis == "y2"][0]
    assert list(p1.x) == [1, 2, 3] and p1.y[-1] == pytest.approx(100.0)


def test_logs_show_pose_errors_in_mm():
    line = format_epoch(MDTF[0])
    assert "train_mpjpe_mm 300" in line and "val_p1_mm 300" in line and "train_mpjpe " not in line
    assert in_display_units({"train_loss": 0.5})["train_loss"] == 0.5, "the loss itself is not converted"
    with pytest.raises(ValueError, match="unknown metric"):
        loss_curve_figure({"r": MDTF}, metrics=["val_p9"])
