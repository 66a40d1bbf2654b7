#!/usr/bin/env bash
# Build the RUCKUS Agent executable with PyInstaller, check what went in, and smoke-test it.
#
#   packaging/build.sh [--variant lite|torch] [--onefile] [--no-gui] [--no-strip] [--no-smoke] [--keep-build]
#
#   --variant lite   (default) no torch; CPU benchmarks on numpy          -> dist/ruckus-agent/ruckus-agent
#   --variant torch  bundles the installed (CPU) torch                    -> dist/ruckus-agent-torch/ruckus-agent
#   --onefile        one self-extracting file instead of a folder         -> dist/ruckus-agent[-torch]-onefile
#   --no-gui         leave the window (PySide6, pyqtgraph, qasync) out
#   --no-strip       keep the symbol tables of torch's libraries (stripped by default on Linux)
#   --no-smoke       build and check only; skip packaging/smoke_test.py
#   --keep-build     keep PyInstaller's work folder (build/pyinstaller-*)
#
# PYTHON (default .venv/bin/python, else python3) must have pyinstaller and the agent's dependencies installed,
# e.g. `.venv/bin/pip install pyinstaller -e '.[gui,postgres]'` (plus torch==2.13.0 for --variant torch).
# RUCKUS_AGENT_SRC builds another source tree than ./app. Prints the build time and the dist size; exits
# non-zero when the build, a bundle check or the smoke test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

variant=lite
onefile=0
nogui=0
nostrip=0
smoke=1
keep_build=0
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant="${2:?--variant needs lite or torch}"; shift 2 ;;
    --variant=*) variant="${1#*=}"; shift ;;
    --onefile) onefile=1; shift ;;
    --no-gui) nogui=1; shift ;;
    --no-strip) nostrip=1; shift ;;
    --no-smoke) smoke=0; shift ;;
    --keep-build) keep_build=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$variant" in lite|torch) ;; *) echo "build.sh: --variant must be lite or torch" >&2; exit 2 ;; esac

if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
  echo "build.sh: PyInstaller is not installed for $PYTHON (pip install pyinstaller)" >&2
  exit 2
fi

name=ruckus-agent
[ "$variant" = lite ] || name="ruckus-agent-$variant"
spec_args=(--variant "$variant")
[ "$onefile" = 1 ] && spec_args+=(--onefile)
[ "$nogui" = 1 ] && spec_args+=(--no-gui)
[ "$nostrip" = 1 ] && spec_args+=(--no-strip)
work="build/pyinstaller-$variant$([ "$onefile" = 1 ] && echo -onefile || true)"
if [ "$onefile" = 1 ]; then
  target="dist/$name-onefile"
  exe="$target"
else
  target="dist/$name"
  exe="$target/ruckus-agent"
fi

echo "== PyInstaller: variant=$variant onefile=$onefile gui=$((1 - nogui)) -> $target ($("$PYTHON" -m PyInstaller --version))"
log="build/pyinstaller-$variant.log"
mkdir -p build
start=$(date +%s.%N)
if ! "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
      --distpath dist --workpath "$work" packaging/ruckus-agent.spec -- "${spec_args[@]}" >"$log" 2>&1; then
  tail -40 "$log" >&2
  echo "FAILURE: PyInstaller failed (full log: $log)" >&2
  exit 1
fi
end=$(date +%s.%N)
build_s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
grep -E "^ruckus-agent.spec:" "$log" | grep -v " dropped " || true

# --- what went in -----------------------------------------------------------------------------------
fail=0
if [ "$onefile" = 1 ]; then
  # the archive's table of contents (files and, from the PYZ, module names), from PyInstaller's own viewer
  listing=$("$PYTHON" -m PyInstaller.utils.cliutils.archive_viewer --list --recursive --brief "$exe" 2>/dev/null \
    | sed 's/^ *//' || true)
else
  listing=$(cd "$target" && find . -print)
fi
if grep -Eiq '(^|/)(libnvidia-ml\.so[^/]*|nvml\.dll)$' <<<"$listing"; then
  echo "FAILURE: an NVML library was bundled; the agent must load the system driver's NVML:" >&2
  grep -Ei 'libnvidia-ml|nvml\.dll' <<<"$listing" >&2
  fail=1
fi
torch_re='(^|/)(torch/|libtorch|torch-[^/]*\.dist-info)|^torch(\.|$)'
if [ "$variant" = lite ] && grep -Eq "$torch_re" <<<"$listing"; then
  echo "FAILURE: torch ended up in the lite variant:" >&2
  grep -E "$torch_re" <<<"$listing" | head >&2
  fail=1
fi

size_mb=$(du -sm "$target" | cut -f1)
echo "== build time: ${build_s} s"
echo "== dist size: ${size_mb} MB ($target)"
if [ "$onefile" = 0 ]; then
  echo "== largest parts of $target/_internal:"
  (cd "$target/_internal" && du -sm -- * | sort -rn | head -12 | awk '{ printf "   %5d MB  %s\n", $1, $2 }')
fi
[ "$keep_build" = 1 ] || rm -rf "$work"
if [ "$fail" != 0 ]; then exit 1; fi

# --- smoke test ---------------------------------------------------------------------------------------
if [ "$smoke" = 1 ]; then
  smoke_args=("$exe")
  [ "$nogui" = 1 ] && smoke_args+=(--skip-gui)
  "$PYTHON" packaging/smoke_test.py "${smoke_args[@]}"
fi
