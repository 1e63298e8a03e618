import os

# JAX computes in float32 unless told otherwise; the references are float64.
os.environ.setdefault("JAX_ENABLE_X64", "1")

from hypothesis import HealthCheck, settings

pytest_plugins = ["xpkern.testing.plugin"]

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
