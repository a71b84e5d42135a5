"""The self-restoring host changes: the interpolate interceptor and per-object patches."""

from __future__ import annotations

import logging

import pytest
import torch
import torch.nn.functional as F

from latent_upscale.webui.patches import InterpolateInterceptor, instance_patch, is_interceptor


class FakeInterrupt(BaseException):
    """Like modules.sd_samplers_common.InterruptedException: a BaseException, not an Exception."""


def _doubler(latent, size, call_host):
    return torch.full((latent.shape[0], latent.shape[1], *size), 2.0)


def test_serves_only_the_call_whose_input_and_size_match():
    target, other = torch.zeros(1, 4, 8, 8), torch.zeros(1, 4, 8, 8)
    with InterpolateInterceptor(lambda: target, lambda: (16, 16), _doubler) as interceptor:
        untouched = F.interpolate(other, size=(16, 16), mode="bilinear")
        wrong_size = F.interpolate(target, size=(12, 12), mode="bilinear")
        served = F.interpolate(target, size=(16, 16), mode="bilinear")
    assert torch.equal(untouched, torch.zeros(1, 4, 16, 16))
    assert torch.equal(wrong_size, torch.zeros(1, 4, 12, 12))
    assert torch.equal(served, torch.full((1, 4, 16, 16), 2.0))
    assert interceptor.served


def test_matches_the_hosts_exact_call_forms():
    # modules/processing.py: interpolate(self.init_latent, size=(h // opt_f, w // opt_f), mode="bilinear")
    # and interpolate(samples, size=(...), mode=..., antialias=...); also accept positional size.
    target = torch.zeros(1, 4, 4, 4)
    for call in (
        lambda: F.interpolate(target, size=(8, 8), mode="bilinear"),
        lambda: F.interpolate(target, size=(8, 8), mode="nearest-exact", antialias=False),
        lambda: F.interpolate(target, [8, 8]),
        lambda: F.interpolate(input=target, size=torch.Size([8, 8])),
    ):
        with InterpolateInterceptor(lambda: target, lambda: (8, 8), _doubler) as interceptor:
            assert call().max() == 2.0
        assert interceptor.served


def test_serves_once_then_removes_itself():
    target = torch.zeros(1, 4, 4, 4)
    original = F.interpolate
    with InterpolateInterceptor(lambda: target, lambda: (8, 8), _doubler):
        assert F.interpolate(target, size=(8, 8)).max() == 2.0
        assert F.interpolate is original  # the window closed at the call it exists for
        assert F.interpolate(target, size=(8, 8)).max() == 0.0
    assert F.interpolate is original


def test_expected_input_is_read_when_the_call_happens():
    holder = {"latent": None}
    with InterpolateInterceptor(lambda: holder["latent"], lambda: (8, 8), _doubler) as interceptor:
        holder["latent"] = torch.zeros(1, 4, 4, 4)  # the host assigns init_latent just before resizing
        assert F.interpolate(holder["latent"], size=(8, 8)).max() == 2.0
    assert interceptor.served


def test_replacement_can_fall_back_to_the_host_call():
    target = torch.arange(16.0).view(1, 1, 4, 4)
    expected = F.interpolate(target, size=(8, 8), mode="bilinear")
    with InterpolateInterceptor(lambda: target, lambda: (8, 8), lambda latent, size, host: host()):
        assert torch.equal(F.interpolate(target, size=(8, 8), mode="bilinear"), expected)


@pytest.mark.parametrize("error", [RuntimeError("boom"), FakeInterrupt(), KeyboardInterrupt()])
def test_restored_after_an_exception_or_interrupt_in_the_host_call(error):
    original = F.interpolate
    with pytest.raises(type(error)), InterpolateInterceptor(lambda: None, lambda: (1, 1), _doubler):
        assert is_interceptor(F.interpolate)
        raise error
    assert F.interpolate is original
    assert not is_interceptor(F.interpolate)


def test_restored_when_the_replacement_itself_raises():
    target = torch.zeros(1, 4, 4, 4)
    original = F.interpolate

    def broken(latent, size, host):
        raise FakeInterrupt

    with pytest.raises(FakeInterrupt), InterpolateInterceptor(lambda: target, lambda: (8, 8), broken):
        F.interpolate(target, size=(8, 8))
    assert F.interpolate is original


def test_never_unpatches_another_wrapper_installed_on_top(caplog):
    caplog.set_level(logging.WARNING)
    target = torch.zeros(1, 4, 4, 4)
    original = F.interpolate
    with InterpolateInterceptor(lambda: target, lambda: (8, 8), _doubler):
        ours = F.interpolate

        def theirs(*args, **kwargs):
            return ours(*args, **kwargs)

        F.interpolate = theirs
    try:
        assert F.interpolate is theirs  # their patch is theirs to undo
        # ours stays in their chain only as an inert pass-through
        assert F.interpolate(target, size=(8, 8)).max() == 0.0
        assert "re-patched" in caplog.text
    finally:
        F.interpolate = original


class Job:
    def init(self):
        return "host init"


@pytest.mark.parametrize("raise_inside", [None, RuntimeError, FakeInterrupt])
def test_instance_patch_shadows_one_object_and_always_restores(raise_inside):
    job, other = Job(), Job()

    def wrapper(original):
        return "ours, then " + original()

    try:
        with instance_patch(job, "init", wrapper):
            assert job.init() == "ours, then host init"
            assert other.init() == "host init"  # the class is never touched
            if raise_inside:
                raise raise_inside()
    except (RuntimeError, FakeInterrupt):
        pass
    assert "init" not in vars(job)
    assert job.init() == "host init"


def test_instance_patch_restores_an_existing_instance_attribute():
    job = Job()
    own = lambda: "already shadowed"  # noqa: E731
    job.init = own
    with instance_patch(job, "init", lambda original: "ours"):
        assert job.init() == "ours"
    assert job.init is own


# --- interceptors of two jobs on two threads --------------------------------------------------------


def _run_in_threads(enter_order, exit_order):
    """Two jobs, A and B, each on its own thread, entering and leaving their interceptors in the given
    orders (steps handed from thread to thread with events); returns what each job's call produced."""
    import threading

    steps = [("enter", name) for name in enter_order] + [("exit", name) for name in exit_order]
    turn = {step: threading.Event() for step in steps}
    results, errors = {}, []

    def step_done(step):
        index = steps.index(step)
        if index + 1 < len(steps):
            turn[steps[index + 1]].set()

    def job(name, fill):
        try:
            latent = torch.zeros(1, 4, 4, 4)
            interceptor = InterpolateInterceptor(
                lambda: latent, lambda: (8, 8), lambda x, size, host: torch.full((1, 4, *size), fill)
            )
            assert turn[("enter", name)].wait(10)
            interceptor.__enter__()
            step_done(("enter", name))
            assert turn[("exit", name)].wait(10)
            # The other job's tensor is not ours: only our own call is served, by our own replacement.
            results[name] = F.interpolate(latent, size=(8, 8)).max().item()
            interceptor.__exit__(None, None, None)
            step_done(("exit", name))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=job, args=(name, fill)) for name, fill in (("A", 1.0), ("B", 2.0))]
    for thread in threads:
        thread.start()
    turn[steps[0]].set()
    for thread in threads:
        thread.join(20)
    assert not errors, errors
    return results


@pytest.mark.parametrize("exit_order", ["AB", "BA"])
@pytest.mark.parametrize("enter_order", ["AB", "BA"])
def test_two_jobs_on_two_threads_leave_the_original_in_any_nesting_order(enter_order, exit_order):
    original = F.interpolate
    results = _run_in_threads(enter_order, exit_order)
    assert F.interpolate is original
    assert not is_interceptor(F.interpolate)
    assert results == {"A": 1.0, "B": 2.0}


def test_an_interceptor_that_never_served_still_leaves_the_original():
    original = F.interpolate
    first = InterpolateInterceptor(lambda: None, lambda: (8, 8), _doubler)
    second = InterpolateInterceptor(lambda: None, lambda: (8, 8), _doubler)
    with first:
        second.__enter__()
    assert is_interceptor(F.interpolate)  # the second job is still running
    second.__exit__(None, None, None)
    second.__exit__(None, None, None)  # leaving twice is harmless
    assert F.interpolate is original


def test_a_new_interceptor_after_an_outside_wrapper_does_not_loop():
    target = torch.zeros(1, 4, 4, 4)
    original = F.interpolate
    with InterpolateInterceptor(lambda: target, lambda: (8, 8), _doubler):
        ours = F.interpolate

        def theirs(*args, **kwargs):
            return ours(*args, **kwargs)

        F.interpolate = theirs
    try:
        with InterpolateInterceptor(lambda: target, lambda: (8, 8), _doubler) as second:
            assert F.interpolate(target, size=(8, 8)).max() == 2.0
        assert second.served and F.interpolate is theirs
    finally:
        F.interpolate = original
