"""Only here to tag the wheel for its platform: it carries a native library (libtensor_protocol.so) but no Python
extension, so it works with any Python 3 on the platform it was built for (py3-none-<platform>)."""
from setuptools import setup

try:
    from wheel.bdist_wheel import bdist_wheel

    class PlatformWheel(bdist_wheel):
        def finalize_options(self):
            super().finalize_options()
            self.root_is_pure = False

        def get_tag(self):
            _, _, platform = super().get_tag()
            return "py3", "none", platform

    commands = {"bdist_wheel": PlatformWheel}
except ImportError:  # building an sdist without the wheel package
    commands = {}

setup(cmdclass=commands)
