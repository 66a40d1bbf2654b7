"""Run-time hook replacing PyInstaller's pyi_rth_pyside6 in the RUCKUS Agent build (see ruckus-agent.spec).

PyInstaller's hook imports PySide6.QtCore at every start of the executable — to register an embedded qt.conf
that the PyPI PySide6 wheels already register themselves when QtCore is imported. Loading Qt Core and ICU
costs 0.2-0.4 s on a small machine, and the headless agent (and every job's worker process, which re-runs
the executable) never uses Qt. This hook keeps the rest of the original: the plug-in and QML paths, and
PATH / DYLD_LIBRARY_PATH for OpenSSL on Windows and macOS; Qt itself is loaded only when the window opens.
"""


def _pyi_rthook():
    import os
    import sys

    from _pyi_rth_utils import is_macos_app_bundle, prepend_path_to_environment_variable
    from _pyi_rth_utils import qt as qt_rth_utils

    qt_rth_utils.ensure_single_qt_bindings_package("PySide6")
    if sys.platform.startswith("win"):
        qt_path = os.path.join(sys._MEIPASS, "PySide6")
    else:
        qt_path = os.path.join(sys._MEIPASS, "PySide6", "Qt")
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt_path, "plugins")
    if is_macos_app_bundle:
        res_path = os.path.normpath(
            os.path.join(sys._MEIPASS, "..", "Resources", os.path.relpath(qt_path, sys._MEIPASS))
        )
        os.environ["QML2_IMPORT_PATH"] = os.pathsep.join(
            [os.path.join(res_path, "qml"), os.path.join(qt_path, "qml")]
        )
    else:
        os.environ["QML2_IMPORT_PATH"] = os.path.join(qt_path, "qml")
    if sys.platform.startswith("win"):
        prepend_path_to_environment_variable(sys._MEIPASS, "PATH")
    if sys.platform == "darwin" and not is_macos_app_bundle:
        prepend_path_to_environment_variable(sys._MEIPASS, "DYLD_LIBRARY_PATH")


_pyi_rthook()
del _pyi_rthook
