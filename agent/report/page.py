"""The HTML of a run report: markup, stylesheet and script, all inline (see agent/report/writer.py).

Every piece of text from the log goes through `_e` (html.escape): thoughts, raw replies and
errors are untrusted model output. A Content-Security-Policy allows only data: images and this
page's own style and script (by hash), so the page cannot load or send anything.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import html
import json
import math
from collections.abc import Mapping

from agent.geometry import Size
from agent.record.deciders import Decider, Healed
from agent.record.describe import describe_logged
from agent.record.events import LoggedAction, RepairProposed
from agent.record.formatting import duration_text
from agent.record.status import RunStatus
from agent.record.steps import StepInfo
from agent.report.assets import SCRIPT, STYLE
from agent.report.overlays import Arrow, Caption, Marker, Overlay, Trail, overlays_of_logged
from agent.report.view import Picture, ReportedRun


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: float) -> str:
    """A coordinate for SVG: an integer where it is one, else one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _when(at: float | None) -> str:
    if not at:
        return "–"
    moment = datetime.datetime.fromtimestamp(at).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _cost(value: float) -> str:
    return f"${value:.4f}" if value else "$0"


def _pretty(raw: str) -> str:
    """A raw reply as sent; JSON indented so it can be read."""
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False, indent=2)
    except ValueError:
        return raw


# ---- overlays: SVG in screen pixels (the viewBox), labels and captions as HTML on top


def _head(tip: tuple[float, float], before: tuple[float, float], size: float) -> str:
    dx, dy = tip[0] - before[0], tip[1] - before[1]
    length = math.hypot(dx, dy) or 1.0
    ux, uy = (dx / length, dy / length) if (dx or dy) else (1.0, 0.0)
    bx, by = tip[0] - ux * size, tip[1] - uy * size
    px, py = -uy * size * 0.55, ux * size * 0.55
    points = [tip, (bx + px, by + py), (bx - px, by - py)]
    return " ".join(f"{_n(round(x, 1))},{_n(round(y, 1))}" for x, y in points)


def _doubled(element: str) -> str:
    """A dark halo under the bright line, so it shows on light and dark screens alike."""
    return element.replace("<", '<g class="halo">' + "<", 1) + "</g>" + element


def _pin(text: str, x: float, y: float, screen: Size, offset: float) -> str:
    flip = x > screen.width * 0.72
    left = (x - offset if flip else x + offset) / screen.width * 100
    top = y / screen.height * 100
    side = " flip" if flip else ""
    return f'<span class="pin{side}" style="left:{left:.3f}%;top:{top:.3f}%">{_e(text)}</span>'


def _scroll_words(arrow: Arrow) -> str:
    parts = []
    if arrow.dy:
        parts.append(f"{'down' if arrow.dy > 0 else 'up'} {abs(arrow.dy)}")
    if arrow.dx:
        parts.append(f"{'right' if arrow.dx > 0 else 'left'} {abs(arrow.dx)}")
    return "scroll " + (", ".join(parts) or "0")


def overlay_markup(
    actions: list[LoggedAction], failed: list[LoggedAction], screen: Size
) -> tuple[str, str, str]:
    """(SVG elements, label pins, captions) for a step's actions; those in `failed` failed."""
    unit = max(screen.width, screen.height) / 1920
    ring = 26 * unit
    shapes: list[str] = []
    pins: list[str] = []
    captions: list[str] = []
    drawn: list[tuple[int, Overlay, bool]] = []
    for index, action in enumerate(actions):
        broken = action in failed
        drawn += [(index, overlay, broken) for overlay in overlays_of_logged(action)]
    numbered = len(actions) > 1
    for index, overlay, broken in drawn:
        prefix = f"{index + 1}. " if numbered else ""
        state = " failed" if broken else ""
        match overlay:
            case Marker(at=at, label=label):
                x, y, r = at.x, at.y, ring
                cross = (
                    f"M{_n(x - r * 1.7)} {_n(y)}H{_n(x - r * 0.45)}"
                    f"M{_n(x + r * 0.45)} {_n(y)}H{_n(x + r * 1.7)}"
                    f"M{_n(x)} {_n(y - r * 1.7)}V{_n(y - r * 0.45)}"
                    f"M{_n(x)} {_n(y + r * 0.45)}V{_n(y + r * 1.7)}"
                )
                shapes.append(
                    f'<g class="ov marker{state}" data-x="{x}" data-y="{y}">'
                    + _doubled(f'<path d="{cross}"/>')
                    + _doubled(f'<circle class="ring" cx="{x}" cy="{y}" r="{_n(round(r, 1))}"/>')
                    + f'<circle class="dot" cx="{x}" cy="{y}" r="{_n(round(3 * unit, 1))}"/></g>'
                )
                pins.append(_pin(prefix + label, x, y, screen, ring * 1.9))
            case Trail(points=points):
                coordinates = " ".join(f"{p.x},{p.y}" for p in points)
                start, end, before = points[0], points[-1], points[-2]
                head = _head((end.x, end.y), (before.x, before.y), 26 * unit)
                shapes.append(
                    f'<g class="ov trail{state}" data-points="{_e(coordinates)}">'
                    + _doubled(f'<polyline points="{coordinates}"/>')
                    + _doubled(f'<polygon class="head" points="{head}"/>')
                    + f'<circle class="dot" cx="{start.x}" cy="{start.y}" r="{_n(6 * unit)}"/>'
                    + "</g>"
                )
                pins.append(_pin(prefix + "drag", start.x, start.y, screen, ring))
            case Arrow(at=at, dx=dx, dy=dy):
                length = (70 + 14 * min(10, max(abs(dx), abs(dy)))) * unit
                norm = math.hypot(dx, dy) or 1.0
                tip = (at.x + dx / norm * length, at.y + dy / norm * length)
                line = f'<path d="M{at.x} {at.y}L{_n(round(tip[0], 1))} {_n(round(tip[1], 1))}"/>'
                head = _head(tip, (at.x, at.y), 26 * unit)
                shapes.append(
                    f'<g class="ov arrow{state}" data-x="{at.x}" data-y="{at.y}">'
                    + (_doubled(line) + _doubled(f'<polygon class="head" points="{head}"/>'))
                    * bool(dx or dy)
                    + _doubled(f'<circle cx="{at.x}" cy="{at.y}" r="{_n(round(ring / 2, 1))}"/>')
                    + "</g>"
                )
                pins.append(_pin(prefix + _scroll_words(overlay), at.x, at.y, screen, ring))
            case Caption(text=text):
                captions.append(f'<span class="cap{state}">{_e(prefix + text)}</span>')
    return "".join(shapes), "".join(pins), "".join(captions)


# ---- pieces of the page


def _shot(step: StepInfo, picture: Picture | None, screen: Size | None) -> str:
    screen = screen or (Size(picture.width, picture.height) if picture else None)
    svg = pins = captions = ""
    if screen is not None:
        shapes, pins, captions = overlay_markup(step.drawn_actions, step.failed_actions, screen)
        svg = (
            f'<svg class="overlay" viewBox="0 0 {screen.width} {screen.height}" '
            f'preserveAspectRatio="none" aria-hidden="true">{shapes}</svg>'
        )
    if captions:
        captions = f'<div class="captions">{captions}</div>'
    if picture is None:
        ratio = f"{screen.width} / {screen.height}" if screen else "16 / 9"
        reason = "frame missing" if step.frame else "no screenshot for this step"
        return (
            f'<figure class="shot empty" style="aspect-ratio:{ratio}">'
            f'<span class="nothing">{_e(reason)}</span>{svg}{pins}{captions}</figure>'
        )
    return (
        f'<figure class="shot" title="Click to enlarge"><img src="{picture.data_uri}" '
        f'width="{picture.width}" height="{picture.height}" '
        f'alt="The screen at the start of step {step.number}">{svg}{pins}{captions}</figure>'
    )


def _timing(step: StepInfo) -> str:
    parts = step.timings
    total = step.measured_seconds or 1.0
    bar = "".join(
        f'<span class="t-{name}" style="width:{value / total * 100:.2f}%"></span>'
        for name, value in parts
        if value > 0
    )
    cells = "".join(
        f'<div><dt><i class="t-{name}"></i>{name}</dt><dd>{duration_text(value)}</dd></div>'
        for name, value in parts
    )
    return f'<div class="bar" aria-hidden="true">{bar}</div><dl class="timing">{cells}</dl>'


def _action_lines(step: StepInfo) -> str:
    lines = []
    for action in step.actions or step.drawn_actions:
        text = describe_logged(action)
        failure = next((o for o in step.failures if o.action == action), None)
        done = next((o for o in step.executed if o.action == action), None)
        if failure is not None:
            note = f'<span class="flag bad">failed: {_e(failure.error)}</span>'
            lines.append(f'<li class="failed"><code>{_e(text)}</code> {note}</li>')
            continue
        flags = []
        if done is not None:
            if not done.screen_changed:
                flags.append('<span class="flag quiet">screen unchanged</span>')
            if not done.settled:
                flags.append('<span class="flag warn">did not settle</span>')
        lines.append(f"<li><code>{_e(text)}</code> {''.join(flags)}</li>")
    for error in step.rejections:
        lines.append(
            f'<li class="rejected"><b>Reply rejected:</b> {_e(error or "unusable reply")}</li>'
        )
    if not lines:
        lines.append('<li class="none">no action</li>')
    return '<ul class="actions">' + "".join(lines) + "</ul>"


def _step_card(step: StepInfo, picture: Picture | None, view: ReportedRun) -> str:
    classes = ["step"]
    badges = []
    if step.failed:
        classes.append("has-failed")
        badges.append('<span class="badge bad">action failed</span>')
    if step.rejected:
        classes.append("has-rejected")
        badges.append('<span class="badge warn">reply rejected</span>')
    failing = step.number == view.failing_step
    if failing:
        classes.append("failing")
        badges.append('<span class="badge bad solid">went wrong here</span>')
    offset = ""
    if step.started_at and view.started_at:
        offset = f'<span class="offset">+{duration_text(step.started_at - view.started_at)}</span>'
    usage = ""
    if step.input_tokens or step.output_tokens or step.cost_usd:
        usage = (
            f'<p class="usage">{step.input_tokens:,} in · {step.output_tokens:,} out tokens'
            f" · {_cost(step.cost_usd)}</p>"
        )
    by = _decided_by(step.by)
    notes = "".join(f'<li class="note">{_e(note)}</li>' for note in step.notes)
    notes = f'<ul class="notes">{notes}</ul>' if notes else ""
    thought = (
        f'<details class="thought" open><summary>Thought</summary>'
        f'<p class="text">{_e(step.thought)}</p></details>'
        if step.thought.strip()
        else ""
    )
    raw = (
        f'<details class="raw"><summary>Raw model reply</summary>'
        f"<pre>{_e(_pretty(step.raw_reply))}</pre></details>"
        if step.raw_reply.strip()
        else ""
    )
    attributes = ' data-failing="true"' if failing else ""
    return (
        f'<section class="{" ".join(classes)}" id="step-{step.number}"{attributes}>'
        f"{_shot(step, picture, view.screen)}"
        f'<div class="about"><header><h2><a href="#step-{step.number}">Step {step.number}</a>'
        f"</h2>{offset}{by[0]}{''.join(badges)}</header>"
        f"{by[1]}{_action_lines(step)}{notes}{_timing(step)}{usage}{thought}{raw}</div></section>"
    )


def _decided_by(by: Decider | None) -> tuple[str, str]:
    """(a label for the card's heading, a line on how a healed step was healed) for who
    decided a step; nothing for a log that does not say."""
    if by is None:
        return "", ""
    label = f'<span class="by by-{by.kind}">{by.kind}</span>'
    if not isinstance(by, Healed):
        return label, ""
    detail = f' <span class="detail">{_e(by.detail)}</span>' if by.detail else ""
    return label, f'<p class="healed"><b>Healed:</b> the model did {_e(by.how)}.{detail}</p>'


def _repair(repair: RepairProposed) -> str:
    """A repaired task file `--heal` proposed, and its diff from the original."""
    steps = ", ".join(map(str, repair.steps))
    lines = "".join(
        f'<span class="{_DIFF_CLASSES.get(line[:1], "")}">{_e(line)}</span>\n'
        for line in repair.diff.splitlines()
    )
    return (
        f'<details class="block repair"><summary>Repair proposed (step {steps} healed): '
        f"<code>{_e(repair.path)}</code></summary><pre>{lines}</pre></details>"
    )


_DIFF_CLASSES = {"+": "add", "-": "del", "@": "hunk"}


def _header(view: ReportedRun) -> str:
    wrong = ""
    if view.failing_step is not None:
        words = "Went wrong at" if view.status is not RunStatus.SUCCESS else "First problem at"
        wrong = (
            f'<a class="went-wrong" id="went-wrong" href="#step-{view.failing_step}">'
            f"{words} step {view.failing_step} ↓</a>"
        )
    facts = [
        ("Duration", duration_text(view.seconds)),
        ("Steps", f"{view.steps_count:,}"),
        *([("Decided by", view.deciders)] if view.deciders else []),
        ("Tokens", f"{view.input_tokens:,} in · {view.output_tokens:,} out"),
        ("Cost", _cost(view.cost_usd)),
        ("Policy", view.policy or "–"),
        ("Started", _when(view.started_at)),
    ]
    facts_html = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in facts)
    checks = "".join(
        f'<li class="{"pass" if c.passed else "fail"}">'
        f'<span class="mark">{"✓" if c.passed else "✗"}</span>'
        f"<span>{_e(c.description)}"
        + (f' <span class="detail">— {_e(c.detail)}</span>' if c.detail else "")
        + "</span></li>"
        for c in view.checks
    )
    checks_html = (
        f'<div class="block"><h3>Checks</h3><ul class="checks">{checks}</ul></div>'
        if checks
        else ""
    )
    setup = "".join(
        f"<li><code>{_e(s.description)}</code> "
        f'<span class="offset">{duration_text(s.seconds)}</span></li>'
        for s in view.setup
    ) + "".join(f'<li class="note">{_e(note)}</li>' for note in view.notes_before_steps)
    setup_html = (
        f'<details class="block setup"><summary>Setup ({len(view.setup)})</summary>'
        f"<ul>{setup}</ul></details>"
        if setup
        else ""
    )
    ticks = "".join(
        f'<a href="#step-{s.number}" class="tick{_tick_class(s, view)}" '
        f'title="Step {s.number}"></a>'
        for s in view.steps
    )
    strip = f'<nav class="strip" aria-label="Steps">{ticks}</nav>' if ticks else ""
    goal = f'<p class="goal">{_e(view.goal)}</p>' if view.goal else ""
    return (
        f'<header class="summary status-{_e(view.status)}"><div class="title">'
        f'<p class="kicker">Shain run report</p><h1>{_e(view.task)}</h1>{goal}</div>'
        f'<div class="verdict"><span class="status">{_e(view.status.words)}</span>'
        f'<span class="reason">{_e(view.reason)}</span>{wrong}</div>'
        f'<dl class="facts">{facts_html}</dl>{checks_html}{setup_html}'
        f"{''.join(map(_repair, view.repairs))}{strip}</header>"
    )


def _tick_class(step: StepInfo, view: ReportedRun) -> str:
    if step.number == view.failing_step:
        return " bad now"
    if step.failed:
        return " bad"
    if step.rejected:
        return " warn"
    return ""


def render_page(view: ReportedRun, pictures: Mapping[int, Picture]) -> str:
    cards = "".join(_step_card(step, pictures.get(step.number), view) for step in view.steps)
    if not cards:
        cards = '<p class="empty-run">This run has no steps: it ended before the first one.</p>'
    script_hash = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    policy = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(view.task)} — {_e(view.status.words)} — Shain"
        f"</title><style>{STYLE}</style></head><body>"
        f'<main data-steps="{len(view.steps)}">{_header(view)}'
        f'<div class="steps">{cards}</div>'
        f"<footer>Run <code>{_e(view.run_id)}</code> · made by <b>shain report</b> · "
        "keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous step · click a screenshot to enlarge"
        f"</footer></main><script>{SCRIPT}</script></body></html>\n"
    )
