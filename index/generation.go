package index

// CurrentGeneration returns the name of the generation directory that
// dir's CURRENT file names: the one Open opens now. A server compares it
// with the generation it serves to tell whether a rebuilt index awaits.
func CurrentGeneration(dir string) (string, error) { return readCurrent(dir) }
