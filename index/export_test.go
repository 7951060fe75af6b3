package index

// OpenGeneration opens one generation directory, whatever CURRENT names:
// the crash test uses it to check that a killed build's leftovers never
// open as an index unless they are complete.
var OpenGeneration = openGeneration
