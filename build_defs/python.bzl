"""The rules the BUILD files of this repository use, in one place.

Bazel 4.2.3 offline: Bazel's native Python rules, and the PyPI packages come
from the interpreter (the project's virtual environment, --python_path).
A newer Bazel with rules_python changes this file only (README, Bazel):
load py_binary, py_library and py_test from @rules_python//python:defs.bzl
instead of native.*; with pip.parse's packages instead of the virtual
environment, make pypi_package an alias of @pypi//<distribution>.
"""

def py_library(**kwargs):
    native.py_library(**kwargs)

def py_binary(**kwargs):
    native.py_binary(**kwargs)

def py_test(**kwargs):
    native.py_test(**kwargs)

def pypi_package(name, distribution):
    """`name` as the code imports it; `distribution` as pyproject.toml names it.

    An empty py_library: its deps say which targets import the package, and
    build_defs/check_build.py checks them and checks pyproject.toml lists it.
    """
    native.py_library(
        name = name,
        tags = ["pypi=" + distribution],
        visibility = ["//visibility:public"],
    )

def _main_file(name, runner, src, function = "main"):
    """A generated <name>_main.py: build_defs/<runner>.py's `function` runs `src`."""
    main = name + "_main.py"
    line = "from build_defs import %s; %s.%s('%s')" % (
        runner,
        runner,
        function,
        src,
    )
    native.genrule(
        name = name + "_main",
        outs = [main],
        cmd = "echo \"%s\" > $@" % line,
        visibility = ["//visibility:private"],
    )
    return main

def py_program(name, deps = [], **kwargs):
    """A program <name>.py, for `bazel run //<package>:<name> -- <flags>`.

    Run as `python <name>.py` would be, from the caller's directory (relative
    paths in flags are the caller's) with bin/_env's TensorFlow settings.
    """
    src = name + ".py"
    main = _main_file(name, "run_program", native.package_name() + "/" + src)
    py_binary(
        name = name,
        srcs = [src, main],
        main = main,
        deps = deps + ["//build_defs:run_program"],
        **kwargs
    )

def py_module_program(name, module, deps = [], **kwargs):
    """The program `python -m <module>`, for `bazel run //<package>:<name>`.

    As py_program, for a program that lives in a package (tfp_realnvp.programs)
    rather than beside its BUILD file; `deps` holds its py_library.
    """
    main = _main_file(name, "run_program", module, "main_module")
    py_binary(
        name = name,
        srcs = [main],
        main = main,
        deps = deps + ["//build_defs:run_program"],
        **kwargs
    )

def pytest_test(name, size, deps = [], data = [], **kwargs):
    """The test file <name>.py, run by pytest (build_defs/run_pytest.py).

    size: from the time its whole file (--config=full) takes alone on 2
    cores: "small" under 5 s, "medium" up to 40 s, else "large". Bazel's
    timeouts (60, 300, 900 s) then leave a 7-fold margin, for two tests at
    a time on a machine that is busy with more.
    tags: "slow" for a file whose tests are all @pytest.mark.slow (the fast
    set skips it); in other files, the fast set deselects the marked tests.
    """
    src = name + ".py"
    main = _main_file(name, "run_pytest", native.package_name() + "/" + src)
    py_test(
        name = name,
        srcs = [src, main],
        main = main,
        size = size,
        deps = deps + ["//build_defs:run_pytest"],
        data = data + ["//:pytest_config"],
        **kwargs
    )
