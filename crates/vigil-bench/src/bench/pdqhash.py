"""Times the PyPI pdqhash package decoding with Pillow, for `vigil bench hash`.

Called with one JSON argument {"files": [...], "rounds": N, "processes": P};
prints one JSON object. This is the pipeline python-threatexchange and HMA
run: Pillow's Image.open(path).convert("RGB"), then pdqhash.compute.
"""
import json
import multiprocessing
import sys
import time


def to_hex(bits):
    # pdqhash returns the bits most significant first (bit 255 .. bit 0),
    # the reference's text order.
    return "".join(
        "%x" % (bits[i] * 8 + bits[i + 1] * 4 + bits[i + 2] * 2 + bits[i + 3])
        for i in range(0, 256, 4)
    )


def one(path):
    import numpy
    import pdqhash
    from PIL import Image

    t0 = time.perf_counter()
    pixels = numpy.asarray(Image.open(path).convert("RGB"))
    t1 = time.perf_counter()
    bits, quality = pdqhash.compute(pixels)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, to_hex([int(b) for b in bits]), int(quality)


def main():
    request = json.loads(sys.argv[1])
    try:
        import importlib.metadata as metadata
        import numpy  # noqa: F401
        import pdqhash  # noqa: F401
        import PIL

        versions = {"pdqhash": metadata.version("pdqhash"), "pillow": PIL.__version__}
    except Exception as error:  # any import problem means "unavailable"
        print(json.dumps({"error": "%s: %s" % (type(error).__name__, error)}))
        return
    files = request["files"]
    one(files[0])  # warm-up: imports and first-call costs
    best = None
    for _ in range(request["rounds"]):
        results = [one(path) for path in files]
        total = sum(r[0] + r[1] for r in results)
        if best is None or total < best[0]:
            best = (total, results)
    processes = request["processes"]
    with multiprocessing.Pool(processes) as pool:
        pool.map(one, files[:processes])  # warm up every worker
        start = time.perf_counter()
        pool.map(one, files, chunksize=1)
        wall = time.perf_counter() - start
    results = best[1]
    print(json.dumps({
        "versions": versions,
        "python": sys.version.split()[0],
        "decode_seconds": sum(r[0] for r in results),
        "hash_seconds": sum(r[1] for r in results),
        "all_cores_seconds": wall,
        "hashes": [r[2] for r in results],
        "qualities": [r[3] for r in results],
    }))


if __name__ == "__main__":
    main()
