"""Mirrors modules/shared_state.py State (v1.10.1): interrupt/skip flags and job counters.

``begin()`` clears ``interrupted``/``skipped`` (:121-123), so a test interrupts a job from inside it (a step
hook, a script hook), exactly like the Interrupt button does. ``stopping_generation`` exists from 1.8.
"""

import time

from modules.fake_host import FLAVOR


class State:
    skipped = False
    interrupted = False
    job = ""
    job_no = 0
    job_count = 0
    processing_has_refined_job_count = False
    job_timestamp = "0"
    sampling_step = 0
    sampling_steps = 0
    current_latent = None
    current_image = None
    textinfo = None
    time_start = None

    def __init__(self):
        self.server_start = time.time()
        if FLAVOR.has_stopping_generation:
            self.stopping_generation = False

    def skip(self):
        self.skipped = True

    def interrupt(self):
        self.interrupted = True

    def stop_generating(self):
        self.stopping_generation = True

    def nextjob(self):
        self.job_no += 1
        self.sampling_step = 0

    def begin(self, job: str = "(unknown)"):
        self.sampling_step = 0
        self.time_start = time.time()
        self.job_count = -1
        self.processing_has_refined_job_count = False
        self.job_no = 0
        self.job_timestamp = "20260101000000"
        self.current_latent = None
        self.current_image = None
        self.skipped = False
        self.interrupted = False
        if FLAVOR.has_stopping_generation:
            self.stopping_generation = False
        self.textinfo = None
        self.job = job

    def end(self):
        self.job = ""
        self.job_count = 0
