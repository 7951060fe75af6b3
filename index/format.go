package index

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"

	"github.com/edsrzf/mmap-go"
)

// Every index file starts with a 32-byte header (little-endian):
//
//	0  magic    [8]byte  "SPLDIDX\x00"
//	8  version  uint32   FormatVersion
//	12 kind     [4]byte  which file this is ("META", "TERM", ...)
//	16 length   uint64   payload bytes that follow the header
//	24 crc      uint32   CRC-32C (Castagnoli) of the payload
//	28 hcrc     uint32   CRC-32C of header bytes 0..27
//
// docs/index-format.md describes the payload of each kind.

// FormatVersion is the on-disk format version; Open refuses other versions.
const FormatVersion = 2

const headerSize = 32

var magic = [8]byte{'S', 'P', 'L', 'D', 'I', 'D', 'X', 0}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// file names inside a generation directory, and their header kinds.
const (
	fileMeta     = "meta.json"
	fileTerms    = "terms.bin"
	filePostings = "postings.bin"
	fileBlocks   = "blocks.bin"
	fileDocs     = "docids.bin"
	currentFile  = "CURRENT"
	currentMagic = "splade-index"
)

var fileKinds = map[string]string{
	fileMeta: "META", fileTerms: "TERM", filePostings: "POST", fileBlocks: "BLKS", fileDocs: "DOCS",
}

func makeHeader(kind string, length uint64, crc uint32) []byte {
	h := make([]byte, headerSize)
	copy(h, magic[:])
	binary.LittleEndian.PutUint32(h[8:], FormatVersion)
	copy(h[12:16], kind)
	binary.LittleEndian.PutUint64(h[16:], length)
	binary.LittleEndian.PutUint32(h[24:], crc)
	binary.LittleEndian.PutUint32(h[28:], crc32.Checksum(h[:28], castagnoli))
	return h
}

// fileWriter streams a payload into a new file, computing its checksum;
// Close writes the header in front and fsyncs.
type fileWriter struct {
	f    *os.File
	w    *bufio.Writer
	crc  hash.Hash32
	n    uint64
	kind string
}

func createFile(dir, name string) (*fileWriter, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(make([]byte, headerSize)); err != nil {
		f.Close()
		return nil, err
	}
	return &fileWriter{f: f, w: bufio.NewWriterSize(f, 1<<20), crc: crc32.New(castagnoli), kind: fileKinds[name]}, nil
}

func (fw *fileWriter) Write(p []byte) (int, error) {
	fw.crc.Write(p)
	fw.n += uint64(len(p))
	return fw.w.Write(p)
}

func (fw *fileWriter) u32(v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	_, err := fw.Write(b[:])
	return err
}

func (fw *fileWriter) u64(v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	_, err := fw.Write(b[:])
	return err
}

// Close finishes the file: header, fsync, close. It is safe to call after
// an error (it then only closes).
func (fw *fileWriter) Close() error {
	if fw.f == nil {
		return nil
	}
	f := fw.f
	fw.f = nil
	err := fw.w.Flush()
	if err == nil {
		_, err = f.WriteAt(makeHeader(fw.kind, fw.n, fw.crc.Sum32()), 0)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	return nil
}

// mappedFile is an index file opened read-only through mmap, its header
// and checksum verified.
type mappedFile struct {
	m       mmap.MMap
	payload []byte
}

// openMapped maps dir/name and verifies the header and the payload CRC.
func openMapped(dir, name string) (*mappedFile, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < headerSize {
		return nil, fmt.Errorf("%s: truncated (%d bytes, header needs %d)", path, st.Size(), headerSize)
	}
	m, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", path, err)
	}
	payload, err := checkHeader(m, fileKinds[name])
	if err != nil {
		m.Unmap()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &mappedFile{m: m, payload: payload}, nil
}

// errPayloadChecksum: a payload whose CRC differs from its header's.
var errPayloadChecksum = errors.New("payload checksum mismatch (corrupted file)")

// checkFileHeader validates a header (everything but the payload CRC)
// of a file of size bytes.
func checkFileHeader(h []byte, kind string, size int64) error {
	if string(h[:8]) != string(magic[:]) {
		return errors.New("not a splade index file (bad magic)")
	}
	if crc32.Checksum(h[:28], castagnoli) != binary.LittleEndian.Uint32(h[28:]) {
		return errors.New("header checksum mismatch (corrupted file)")
	}
	if v := binary.LittleEndian.Uint32(h[8:]); v != FormatVersion {
		return fmt.Errorf("index format version %d, this build reads version %d (rebuild the index)", v, FormatVersion)
	}
	if string(h[12:16]) != kind {
		return fmt.Errorf("file kind %q, expected %q", h[12:16], kind)
	}
	if n := binary.LittleEndian.Uint64(h[16:]); n != uint64(size-headerSize) {
		return fmt.Errorf("payload length %d in header, file holds %d (truncated or corrupted)", n, size-headerSize)
	}
	return nil
}

// checkHeader validates a whole file image and returns its payload.
func checkHeader(b []byte, kind string) ([]byte, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("truncated header (%d bytes)", len(b))
	}
	h := b[:headerSize]
	if err := checkFileHeader(h, kind, int64(len(b))); err != nil {
		return nil, err
	}
	payload := b[headerSize:]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(h[24:]) {
		return nil, errPayloadChecksum
	}
	return payload, nil
}

func (m *mappedFile) close() error {
	if m == nil || m.m == nil {
		return nil
	}
	err := m.m.Unmap()
	m.m = nil
	return err
}

// readCurrent returns the generation directory named by DIR/CURRENT.
func readCurrent(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s: no index here (missing %s; build one with splade index)", dir, currentFile)
		}
		return "", err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], currentMagic+" ") {
		return "", fmt.Errorf("%s: malformed %s file", dir, currentFile)
	}
	gen := strings.TrimSpace(lines[1])
	if !strings.HasPrefix(gen, "gen-") || strings.ContainsAny(gen, `/\`) {
		return "", fmt.Errorf("%s: %s names invalid generation %q", dir, currentFile, gen)
	}
	return gen, nil
}

// writeCurrent atomically points DIR/CURRENT at generation gen: write a
// temporary file, fsync it, rename it over CURRENT, fsync the directory.
func writeCurrent(dir, gen string) error {
	tmp := filepath.Join(dir, currentFile+".tmp")
	content := fmt.Sprintf("%s %d\n%s\n", currentMagic, FormatVersion, gen)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, currentFile))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("committing index in %s: %w", dir, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func crc32Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
