package plugin

// ServeVersion serves p claiming another protocol version, so that version
// negotiation is tested against a real process.
var ServeVersion = serve
