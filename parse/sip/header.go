package sip

// hid identifies a header known to the parser; hOther is any other.
type hid uint8

const (
	hOther hid = iota
	hCallID
	hFrom
	hTo
	hVia
	hCSeq
	hContentLength
	hContentType
	hContact
	hSupported
	hSubject
	hContentEncoding
	hEvent
	hAllowEvents
	hReferTo
	hReferredBy
	hSessionExpires
	hIdentity
	hRoute
	hRecordRoute
	hAllow
	hRequire
	hProxyRequire
	hUnsupported
	hPath
	hServiceRoute
	hAccept
	hAcceptEncoding
	hAcceptLanguage
	hPAssertedIdentity
	hPPreferredIdentity
	hAcceptContact
	hRejectContact
	hRequestDisposition
	hMax
)

var fullNames = [hMax]string{
	hCallID:             "Call-ID",
	hFrom:               "From",
	hTo:                 "To",
	hVia:                "Via",
	hCSeq:               "CSeq",
	hContentLength:      "Content-Length",
	hContentType:        "Content-Type",
	hContact:            "Contact",
	hSupported:          "Supported",
	hSubject:            "Subject",
	hContentEncoding:    "Content-Encoding",
	hEvent:              "Event",
	hAllowEvents:        "Allow-Events",
	hReferTo:            "Refer-To",
	hReferredBy:         "Referred-By",
	hSessionExpires:     "Session-Expires",
	hIdentity:           "Identity",
	hRoute:              "Route",
	hRecordRoute:        "Record-Route",
	hAllow:              "Allow",
	hRequire:            "Require",
	hProxyRequire:       "Proxy-Require",
	hUnsupported:        "Unsupported",
	hPath:               "Path",
	hServiceRoute:       "Service-Route",
	hAccept:             "Accept",
	hAcceptEncoding:     "Accept-Encoding",
	hAcceptLanguage:     "Accept-Language",
	hPAssertedIdentity:  "P-Asserted-Identity",
	hPPreferredIdentity: "P-Preferred-Identity",
	hAcceptContact:      "Accept-Contact",
	hRejectContact:      "Reject-Contact",
	hRequestDisposition: "Request-Disposition",
}

// compact maps the RFC 3261 / IANA compact forms (lower case letter) to
// their header.
var compact = [26]hid{
	'i' - 'a':    hCallID,
	'f' - 'a':    hFrom,
	't' - 'a':    hTo,
	'v' - 'a':    hVia,
	'm' - 'a':    hContact,
	'l' - 'a':    hContentLength,
	'c' - 'a':    hContentType,
	'k' - 'a':    hSupported,
	's' - 'a':    hSubject,
	'e' - 'a':    hContentEncoding,
	'o' - 'a':    hEvent,
	'u' - 'a':    hAllowEvents,
	'r' - 'a':    hReferTo,
	'b' - 'a':    hReferredBy,
	'x' - 'a':    hSessionExpires,
	'y' - 'a':    hIdentity,
	0 /* 'a' */ : hAcceptContact,
	'j' - 'a':    hRejectContact,
	'd' - 'a':    hRequestDisposition,
}

// byHash indexes fullNames by hidHash, which tells every known name from
// the others by its length, first and last letter: a lookup compares one
// name.
var byHash = func() (t [128]hid) {
	for id, n := range fullNames {
		if n == "" {
			continue
		}
		h := hidHash(n)
		if t[h] != hOther {
			panic("sip: header names " + n + " and " + fullNames[t[h]] + " share a hash")
		}
		t[h] = hid(id)
	}
	return t
}()

// hidHash is a hash of a header name of two bytes or more, folded to lower
// case.
func hidHash(n string) uint8 {
	return uint8(len(n)+int(n[0]|0x20)*12+int(n[len(n)-1]|0x20)) & 127
}

// listHeaders are split on commas by Values.
var listHeaders = [hMax]bool{
	hVia: true, hRoute: true, hRecordRoute: true, hContact: true, hAllow: true,
	hSupported: true, hRequire: true, hProxyRequire: true, hUnsupported: true,
	hAllowEvents: true, hPath: true, hServiceRoute: true, hAccept: true,
	hAcceptEncoding: true, hAcceptLanguage: true, hPAssertedIdentity: true,
	hPPreferredIdentity: true, hContentEncoding: true,
}

func headerID(name string) hid {
	if len(name) == 1 {
		c := name[0] | 0x20
		if c >= 'a' && c <= 'z' {
			return compact[c-'a']
		}
		return hOther
	}
	if len(name) < 2 {
		return hOther
	}
	if id := byHash[hidHash(name)]; asciiEqualFold(fullNames[id], name) {
		return id
	}
	return hOther
}

// asciiEqualFold compares two strings of equal length, ASCII case-insensitively.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x|0x20 != y|0x20 || x|0x20 < 'a' || x|0x20 > 'z' {
			return false
		}
	}
	return true
}

// sameHeader reports whether h is the header wanted, whose id is id.
func sameHeader(h *Header, id hid, wanted string) bool {
	if id != hOther {
		return h.hid() == id
	}
	return asciiEqualFold(h.Name, wanted)
}

// Get returns the first value of header name, matched case-insensitively and
// with compact forms (Get("Call-ID") finds "i:"), or "" if absent.
func (m *Message) Get(name string) string {
	id := headerID(name)
	for i := range m.Headers {
		if m.Headers[i].Name != "" && sameHeader(&m.Headers[i], id, name) {
			return m.Headers[i].Value
		}
	}
	return ""
}

// Values returns every value of every header called name, in wire order.
// List headers (Via, Route, Record-Route, Contact unless "*", Allow,
// Supported, Require, Allow-Events, Path, P-Asserted-Identity...) are split
// on commas outside quotes and angle brackets.
func (m *Message) Values(name string) []string {
	id := headerID(name)
	var out []string
	for i := range m.Headers {
		h := &m.Headers[i]
		if h.Name == "" || !sameHeader(h, id, name) {
			continue
		}
		if !listHeaders[id] || (id == hContact && h.Value == "*") {
			out = append(out, h.Value)
			continue
		}
		for rest := h.Value; rest != ""; {
			var item string
			item, rest = nextItem(rest)
			if item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// SplitList splits a header value into its comma-separated items (commas
// inside double quotes or angle brackets do not count), trimmed, empty
// items left out: the values of a P-Asserted-Identity, Diversion or any
// other list header.
func SplitList(v string) []string {
	var out []string
	for v != "" {
		var item string
		item, v = nextItem(v)
		if item != "" {
			out = append(out, item)
		}
	}
	return out
}

// FirstItem is the first item SplitList would return, without allocating.
func FirstItem(v string) string {
	item, _ := nextItem(v)
	return item
}

// nextItem returns the first comma-separated item of s (commas inside
// double quotes or angle brackets do not count), trimmed, and the rest.
func nextItem(s string) (item, rest string) {
	inQuote, inAngle := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote:
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case c == ',' && !inAngle:
			return trimSpace(s[:i]), s[i+1:]
		}
	}
	return trimSpace(s), ""
}

var methodNames = [...]string{
	MethodOther: "OTHER",
	INVITE:      "INVITE",
	ACK:         "ACK",
	BYE:         "BYE",
	CANCEL:      "CANCEL",
	REGISTER:    "REGISTER",
	OPTIONS:     "OPTIONS",
	PRACK:       "PRACK",
	UPDATE:      "UPDATE",
	INFO:        "INFO",
	SUBSCRIBE:   "SUBSCRIBE",
	NOTIFY:      "NOTIFY",
	REFER:       "REFER",
	MESSAGE:     "MESSAGE",
	PUBLISH:     "PUBLISH",
}

// String returns the method name ("INVITE"); MethodOther is "OTHER".
func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return "OTHER"
}

// ParseMethod maps a method token to its Method, case-sensitively as RFC
// 3261 requires ("invite" is MethodOther).
func ParseMethod(b []byte) Method {
	return parseMethod(string(b)) // no allocation: the conversion does not escape
}

func parseMethod(s string) Method {
	switch s {
	case "INVITE":
		return INVITE
	case "ACK":
		return ACK
	case "BYE":
		return BYE
	case "CANCEL":
		return CANCEL
	case "REGISTER":
		return REGISTER
	case "OPTIONS":
		return OPTIONS
	case "PRACK":
		return PRACK
	case "UPDATE":
		return UPDATE
	case "INFO":
		return INFO
	case "SUBSCRIBE":
		return SUBSCRIBE
	case "NOTIFY":
		return NOTIFY
	case "REFER":
		return REFER
	case "MESSAGE":
		return MESSAGE
	case "PUBLISH":
		return PUBLISH
	}
	return MethodOther
}

// Clone returns a deep copy of m that owns its bytes and shares no slice
// with m, for keeping a message after its buffer or m is reused.
func (m *Message) Clone() *Message {
	c := *m
	c.Raw = append([]byte(nil), m.Raw...)
	rebase := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		// b is a slice of the same array as m.Raw: its offset follows from
		// the capacities; check it before using it.
		if i := cap(m.Raw) - cap(b); i >= 0 && i+len(b) <= len(m.Raw) && &m.Raw[i] == &b[0] {
			return c.Raw[i : i+len(b) : i+len(b)]
		}
		return append([]byte(nil), b...)
	}
	c.Body = rebase(m.Body)
	c.Headers = append([]Header(nil), m.Headers...)
	c.Via = append([]Via(nil), m.Via...)
	c.Problems = append([]Problem(nil), m.Problems...)
	if m.Parts != nil {
		c.Parts = make([]Part, len(m.Parts))
		for i, p := range m.Parts {
			c.Parts[i] = Part{ContentType: p.ContentType, Body: rebase(p.Body)}
		}
	}
	return &c
}
