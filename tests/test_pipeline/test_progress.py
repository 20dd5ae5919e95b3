# Copyright (c) mmw2s contributors. All rights reserved.
"""What the study tools show on a terminal."""
import io

from rich.console import Console
from rich.progress import BarColumn, Progress

from mmw2s.pipeline.progress import RichEvents


def test_a_phase_heading_is_printed_above_the_bar_as_written():
    screen = io.StringIO()
    title = 'Phase 2, adaptconf threshold [0.5] (short: lenet_1ep; seed 0)'
    with Progress(
            BarColumn(),
            console=Console(file=screen, force_terminal=True,
                            width=100)) as progress:
        events = RichEvents(progress)
        events.phase_started(title)
        events.stage_started('seed 0 short/kd', 10, 'to train and test')
        events.advance(5)
    assert title in screen.getvalue()
