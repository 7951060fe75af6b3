# Sourced by the benchmark scripts: Debian's torch 1.13 calls libblas.so.3,
# which is netlib's unblocked reference BLAS (minutes per encoder batch)
# unless the OpenBLAS package provides that alternative.
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 || true)
if [[ "$blas" != *openblas* ]]; then
	echo "libblas.so.3 is ${blas:-missing}, not OpenBLAS: install it first (apt-get install libopenblas0-pthread)" >&2
	exit 1
fi
echo "== libblas.so.3: $blas"
