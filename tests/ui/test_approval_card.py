"""The approval card offscreen: what it shows, its answers, its timeout, and the approver that
blocks the run's thread until the GUI answers."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QSize, Qt
from pytestqt.qtbot import QtBot

from agent.actions import Click, TypeText
from agent.desktop.protocol import Frame
from agent.run.approvals import ApprovalRequest
from agent.stop import StopToken
from ui.tray.approval_card import PREVIEW, ApprovalCard, crop_box
from ui.tray.approvals import STOP_REASON, Answer, BossApprover, PendingApproval

REASON = "typing 'rm -rf ': rm -rf deletes files for good"


def _frame(width: int = 1920, height: int = 1080) -> Frame:
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    pixels[..., 0] = 200  # blue-grey, BGRA
    pixels[..., 1] = 120
    pixels[..., 2] = 90
    return Frame(pixels=pixels, captured_at=time.monotonic())


def _card(
    qtbot: QtBot,
    action: Click | TypeText | None = None,
    *,
    stop: StopToken | None = None,
    timeout: float = 120.0,
) -> ApprovalCard:
    action = action or TypeText("rm -rf ~/important\n")
    request = ApprovalRequest(REASON, 3, action, _frame())
    card = ApprovalCard(
        PendingApproval(request, stop or StopToken()), task_name="guarded", timeout_seconds=timeout
    )
    qtbot.addWidget(card)
    card.show()
    return card


def test_card_shows_the_action_the_reason_and_the_screen(qtbot: QtBot) -> None:
    card = _card(qtbot)
    assert card.action_label.text() == "type 'rm -rf ~/important\\n' (19 chars)"
    assert REASON in card.reason_label.text()
    assert card.preview is not None and not card.preview.isNull()
    assert card.preview.width() <= PREVIEW.width() and card.preview.height() <= PREVIEW.height()
    assert "2:00" in card.countdown.text()
    assert {b.objectName() for b in card.buttons.values()} == {"approve", "deny", "stop"}
    assert card.windowFlags() & Qt.WindowType.WindowStaysOnTopHint


def test_crop_is_around_the_click_with_its_marker_drawn(qtbot: QtBot) -> None:
    click = Click(1800, 1000)
    box = crop_box(click, QSize(1920, 1080))
    assert box.right() == 1919 and box.bottom() == 1079  # clamped to the screen
    assert box.contains(1800, 1000) and box.width() == 640
    card = _card(qtbot, click)
    preview = card.preview
    assert preview is not None
    scale = preview.width() / box.width()
    x, y = round((1800 - box.x()) * scale), round((1000 - box.y()) * scale)
    colour = preview.pixelColor(x, y)  # the marker's red dot, not the blue-grey screen
    assert colour.red() > 200 and colour.blue() < 150, colour.name()


@pytest.mark.parametrize("answer", list(Answer))
def test_buttons_answer(qtbot: QtBot, answer: Answer) -> None:
    stop = StopToken()
    card = _card(qtbot, stop=stop)
    with qtbot.waitSignal(card.decided) as decided:
        qtbot.mouseClick(card.buttons[answer], Qt.MouseButton.LeftButton)
    assert decided.args == [answer]
    assert card.pending.answer is answer and card.pending.answered
    assert card.pending.approved is (answer is Answer.APPROVE)
    assert stop.stopped is (answer is Answer.STOP)
    if answer is Answer.STOP:
        assert stop.reason == STOP_REASON
    assert not card.isVisible()


def test_closing_the_card_denies(qtbot: QtBot) -> None:
    card = _card(qtbot)
    card.close()
    assert card.pending.answer is Answer.DENY


def test_no_answer_in_time_pauses_the_run_and_says_so(qtbot: QtBot) -> None:
    stop = StopToken()
    card = _card(qtbot, stop=stop, timeout=0.3)
    with qtbot.waitSignal(card.timed_out, timeout=3000):
        pass
    assert stop.paused and card.paused_run
    assert "the task is paused" in card.countdown.text()
    assert not card.pending.answered and card.isVisible()  # still answerable
    qtbot.mouseClick(card.buttons[Answer.DENY], Qt.MouseButton.LeftButton)
    assert card.pending.answer is Answer.DENY
    assert not stop.paused  # the boss answered: the run goes on (to its denial)


def _asking_thread(approver: BossApprover, results: list[bool]) -> threading.Thread:
    request = ApprovalRequest(REASON, 1, TypeText("rm -rf ~/important\n"), _frame())
    thread = threading.Thread(target=lambda: results.append(approver(request)), daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("answer", [Answer.APPROVE, Answer.DENY])
def test_the_approver_blocks_the_run_thread_until_the_gui_answers(
    qtbot: QtBot, answer: Answer
) -> None:
    stop = StopToken()
    approver = BossApprover(stop)
    cards: list[ApprovalCard] = []

    def show(pending: PendingApproval) -> None:
        assert threading.current_thread() is threading.main_thread()
        card = ApprovalCard(pending)
        qtbot.addWidget(card)
        card.show()
        cards.append(card)

    approver.asked.connect(show)
    results: list[bool] = []
    thread = _asking_thread(approver, results)
    qtbot.waitUntil(lambda: len(cards) == 1)
    qtbot.wait(200)
    assert thread.is_alive() and results == []  # waiting for the boss
    qtbot.mouseClick(cards[0].buttons[answer], Qt.MouseButton.LeftButton)
    thread.join(2)
    assert results == [answer is Answer.APPROVE]


def test_a_stop_elsewhere_denies_and_closes_the_card(qtbot: QtBot) -> None:
    stop = StopToken()
    approver = BossApprover(stop)
    cards: list[ApprovalCard] = []

    def show(pending: PendingApproval) -> None:
        card = ApprovalCard(pending)
        qtbot.addWidget(card)
        card.show()
        cards.append(card)

    approver.asked.connect(show)
    results: list[bool] = []
    thread = _asking_thread(approver, results)
    qtbot.waitUntil(lambda: len(cards) == 1)
    stop.stop("stopped by the hotkey ctrl+alt+escape")
    thread.join(2)
    assert results == [False]
    qtbot.waitUntil(lambda: not cards[0].isVisible())
