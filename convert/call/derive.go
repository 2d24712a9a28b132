package call

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// legKey names one hop of one Call-ID: the two hosts, in either order.
type legKey struct {
	callID string
	a, b   netip.Addr
}

func newLegKey(m *Msg) legKey {
	a, b := m.Src.Addr(), m.Dst.Addr()
	if b.Less(a) {
		a, b = b, a
	}
	return legKey{callID: m.CallID, a: a, b: b}
}

// txKey names a transaction on a leg. ACK to a non-2xx final and CANCEL
// share the INVITE's branch but are told apart by method, as RFC 3261 17.1.3
// and 9.1 say; without a branch (RFC 2543 peers) CSeq and From tag stand in.
type txKey struct {
	leg     int
	branch  string
	cseq    uint32
	method  string
	fromTag string
}

// seenKey tells a retransmission from a new message in a transaction.
type seenKey struct {
	tx     int
	src    netip.AddrPort
	dst    netip.AddrPort
	status int
	toTag  string
}

// dialogKey names a dialog on a leg by its two tags, caller's first.
type dialogKey struct {
	leg            int
	fromTag, toTag string
}

// dialogCreating says whether a request of this method may create a dialog.
func dialogCreating(method string) bool {
	switch method {
	case "INVITE", "SUBSCRIBE", "REFER", "NOTIFY":
		return true
	}
	return false
}

// dialogIndex returns the index of the dialog with these tags on leg li (in
// either order), adding it if it is new.
func dialogIndex(c *Call, dialogs *index[dialogKey], li int, fromTag, toTag string, early bool) int {
	if di := dialogs.find(dialogKey{li, fromTag, toTag}); di >= 0 {
		return di
	}
	if di := dialogs.find(dialogKey{li, toTag, fromTag}); di >= 0 {
		return di
	}
	c.Dialogs = append(c.Dialogs, Dialog{Leg: li, FromTag: fromTag, ToTag: toTag, Early: early})
	return dialogs.add(dialogKey{li, fromTag, toTag})
}

// index numbers keys in the order they are added. A call has a handful of
// legs, transactions and dialogs, so it searches a slice, and switches to a
// map only when a call grows large.
type index[K comparable] struct {
	keys []K
	m    map[K]int
}

const indexMapAt = 24

func (x *index[K]) reset() {
	clear(x.keys) // drop references to the last call's strings
	x.keys, x.m = x.keys[:0], nil
}

// find returns the number of k, -1 if it was not added.
func (x *index[K]) find(k K) int {
	if x.m != nil {
		if i, ok := x.m[k]; ok {
			return i
		}
		return -1
	}
	for i := range x.keys {
		if x.keys[i] == k {
			return i
		}
	}
	return -1
}

// add adds k (not yet added) and returns its number.
func (x *index[K]) add(k K) int {
	i := len(x.keys)
	x.keys = append(x.keys, k)
	switch {
	case x.m != nil:
		x.m[k] = i
	case len(x.keys) > indexMapAt:
		x.m = make(map[K]int, 2*len(x.keys))
		for j, kk := range x.keys {
			x.m[kk] = j
		}
	}
	return i
}

// scratch is what derive reuses from one call to the next.
type scratch struct {
	legs    index[legKey]
	txs     index[txKey]
	seen    index[seenKey]
	dialogs index[dialogKey]
	ids     index[string]

	txOut  []Transaction
	dlgOut []Dialog
}

// own gives c its own copies of the Transactions and Dialogs that derive
// built in sc, or drops them.
func (sc *scratch) own(c *Call, keep bool) {
	if keep {
		c.Transactions, c.Dialogs = slices.Clone(c.Transactions), slices.Clone(c.Dialogs)
	} else {
		c.Transactions, c.Dialogs = nil, nil
	}
	clear(sc.txOut[:cap(sc.txOut)]) // drop references to the call's strings
	clear(sc.dlgOut[:cap(sc.dlgOut)])
}

func (sc *scratch) reset() {
	sc.legs.reset()
	sc.txs.reset()
	sc.seen.reset()
	sc.dialogs.reset()
	sc.ids.reset()
}

// derive computes legs, transactions, dialogs, retransmissions and the call
// facts from c.Msgs. end is the capture time at which the input (or the
// call's lingering) ended.
func derive(c *Call, end time.Time, linger time.Duration, sc *scratch) {
	if sc == nil {
		sc = new(scratch)
	}
	sc.reset()
	// Transactions and Dialogs are built in the scratch buffers: the
	// caller clones them if it keeps them (see scratch.own).
	c.Legs, c.CallIDs = nil, nil
	c.Transactions, c.Dialogs = sc.txOut[:0], sc.dlgOut[:0]
	c.Messages, c.Retransmissions, c.Broken = len(c.Msgs), 0, 0
	if len(c.Msgs) == 0 {
		return
	}
	for i := range c.Msgs {
		m := &c.Msgs[i]
		if m.Problems > 0 {
			c.Broken++
		}
		if sc.ids.find(m.CallID) < 0 {
			sc.ids.add(m.CallID)
			c.CallIDs = append(c.CallIDs, m.CallID)
		}
		lk := newLegKey(m)
		li := sc.legs.find(lk)
		if li < 0 {
			li = sc.legs.add(lk)
			a, b := m.Src, m.Dst
			if !m.Request { // first seen is a response: the other side began it
				a, b = b, a
			}
			c.Legs = append(c.Legs, Leg{CallID: m.CallID, A: a, B: b, First: m.Time})
		}
		m.Leg = li

		method := m.cseqMethod
		if m.Request {
			method = m.Method
		}
		tk := txKey{leg: li, branch: m.Branch, cseq: m.CSeq, method: method}
		if m.Branch == "" || !strings.HasPrefix(m.Branch, "z9hG4bK") {
			tk.fromTag = m.fromTag
		}
		ti := sc.txs.find(tk)
		if ti < 0 && m.Request && method == "ACK" {
			// ACK to a non-2xx final belongs to the INVITE transaction:
			// same branch and CSeq number (RFC 3261 17.1.1.3)
			inv := tk
			inv.method = "INVITE"
			if j := sc.txs.find(inv); j >= 0 && c.Transactions[j].FinalStatus >= 300 {
				ti = j
			}
		}
		if ti < 0 {
			ti = sc.txs.add(tk)
			req := -1
			if m.Request {
				req = i
			}
			c.Transactions = append(c.Transactions, Transaction{Leg: li, Branch: m.Branch, CSeq: m.CSeq, Method: method, Request: req})
		}
		m.Transaction = ti
		t := &c.Transactions[ti]
		if t.Request < 0 && m.Request {
			t.Request = i
		}
		sk := seenKey{tx: ti, src: m.Src, dst: m.Dst, status: m.StatusCode, toTag: m.toTag}
		if m.Request {
			sk.status = -1
			if method == "ACK" && t.Method != "ACK" {
				sk.status = -2
			}
		}
		if sc.seen.find(sk) >= 0 {
			m.Retransmission = true
			c.Retransmissions++
			t.Retrans++
		} else {
			sc.seen.add(sk)
		}
		if !m.Request && m.StatusCode >= 200 && t.FinalStatus == 0 {
			t.FinalStatus = m.StatusCode
		}

		// Dialogs: a 101-299 response with a To tag to a dialog-creating
		// request makes one (early until a 2xx to that request); an
		// in-dialog request names one with the tags the other way round
		// when the callee sends it. An error response, the ACK of an error
		// and responses to in-dialog requests (200 to CANCEL, PRACK) do not
		// make or confirm a dialog.
		if m.toTag != "" && m.fromTag != "" {
			creating := dialogCreating(method)
			switch {
			case !m.Request && creating && m.StatusCode > 100 && m.StatusCode < 300:
				di := dialogIndex(c, &sc.dialogs, li, m.fromTag, m.toTag, true)
				if m.StatusCode >= 200 {
					c.Dialogs[di].Early = false
				}
			case m.Request && method != "CANCEL" && !(method == "ACK" && t.Method != "ACK"):
				// seen mid-dialog first (the capture began during the
				// call): an in-dialog request other than PRACK/UPDATE is
				// sent in a confirmed dialog
				dialogIndex(c, &sc.dialogs, li, m.fromTag, m.toTag, method == "PRACK" || method == "UPDATE")
			}
		}
	}
	sc.txOut, sc.dlgOut = c.Transactions[:0], c.Dialogs[:0]
	facts(c, end, linger)
}

// facts fills the per-call derived facts from the originating leg.
func facts(c *Call, end time.Time, linger time.Duration) {
	first := &c.Msgs[0]
	c.Start, c.End = first.Time, first.Time
	for i := range c.Msgs {
		if t := c.Msgs[i].Time; t.After(c.End) {
			c.End = t
		}
	}
	c.SetupTime, c.PostDialDelay, c.TalkTime = -1, -1, -1
	c.FinalStatus, c.FinalReason, c.State, c.EndCause = 0, "", StateUnknown, EndNone

	// The originating request: the first initial request of the call.
	oi := -1
	for i := range c.Msgs {
		if c.Msgs[i].init != nil && c.Msgs[i].Method != "ACK" && c.Msgs[i].Method != "CANCEL" {
			oi = i
			break
		}
	}
	if oi < 0 {
		// The request was not captured (the capture began after it): its
		// final response, if seen, still says how it ended; the state stays
		// unknown.
		c.Method = first.Method
		for i := range c.Msgs {
			if m := &c.Msgs[i]; !m.Request && m.StatusCode >= 200 && m.cseqMethod == c.Method && m.Transaction == first.Transaction {
				c.FinalStatus, c.FinalReason = m.StatusCode, m.Reason
				break
			}
		}
		return
	}
	orig := &c.Msgs[oi]
	c.Method = orig.Method
	c.From, c.To, c.RequestURI = orig.init.from, orig.init.to, orig.init.ruri
	c.PAI, c.Diversion = orig.init.pai, orig.init.diversion
	leg := orig.Leg

	// The last attempt: the latest transaction of an initial request of the
	// same method on the originating leg (a 401/407 challenge is followed
	// by a new attempt with a new CSeq).
	lastTx := orig.Transaction
	for i := oi + 1; i < len(c.Msgs); i++ {
		if m := &c.Msgs[i]; m.Request && m.init != nil && m.Leg == leg && m.Method == c.Method && m.Transaction > lastTx {
			lastTx = m.Transaction
		}
	}
	var final *Msg
	for i := range c.Msgs {
		m := &c.Msgs[i]
		if !m.Request && m.Transaction == lastTx && m.StatusCode >= 200 {
			final = m
			break
		}
	}
	if final != nil {
		c.FinalStatus, c.FinalReason = final.StatusCode, final.Reason
		c.SetupTime = final.Time.Sub(orig.Time)
	}
	if c.Method != "INVITE" {
		c.State = StateNonInvite
		return
	}
	for i := range c.Msgs {
		m := &c.Msgs[i]
		if !m.Request && m.Leg == leg && m.StatusCode >= 180 && m.StatusCode < 200 && m.cseqMethod == "INVITE" {
			c.PostDialDelay = m.Time.Sub(orig.Time)
			break
		}
	}

	// The ending message: first BYE (but one its peer refused, as with 500
	// Request out of order, when another follows: the call went on), else
	// CANCEL, else the earliest error final to an initial INVITE on any
	// leg.
	var bye, cancel, errResp *Msg
	for i := range c.Msgs {
		m := &c.Msgs[i]
		switch {
		case m.Retransmission:
		case m.Request && m.Method == "BYE" && (bye == nil || refused(c, bye)):
			bye = m
		case m.Request && m.Method == "CANCEL" && cancel == nil:
			cancel = m
		case !m.Request && m.StatusCode >= 300 && m.cseqMethod == "INVITE" && errResp == nil &&
			final != nil && final.StatusCode >= 300 && m.StatusCode == final.StatusCode:
			errResp = m
		}
	}
	ender := func(m *Msg, cause EndCause) {
		c.EndCause = cause
		c.EndedBy = m.Src
		if m.Request {
			c.EndedByFrom = fromCaller(c, m)
		} else if req := c.Transactions[m.Transaction].Request; req >= 0 {
			// a response is sent by the side that did not send the request
			c.EndedByFrom = !fromCaller(c, &c.Msgs[req])
		} else {
			c.EndedByFrom = false // a final to the caller's INVITE whose request was not seen
		}
		c.ReasonHdr = m.reasonHdr
		c.Q850 = q850(m.reasonHdr)
	}
	switch {
	case final != nil && final.StatusCode < 300:
		c.State = StateAnswered
		if bye != nil {
			c.State = StateCompleted
			c.TalkTime = bye.Time.Sub(final.Time)
			ender(bye, EndBye)
		} else {
			c.TalkTime = c.End.Sub(final.Time)
		}
	case cancel != nil && (final == nil || final.StatusCode == 487):
		c.State = StateCancelled
		ender(cancel, EndCancel)
		if final != nil && final.reasonHdr != "" && c.ReasonHdr == "" {
			c.ReasonHdr, c.Q850 = final.reasonHdr, q850(final.reasonHdr)
		}
	case final != nil:
		c.State = StateFailed
		if errResp == nil {
			errResp = final
		}
		ender(errResp, EndError)
	default:
		last := c.Msgs[len(c.Msgs)-1].Time
		if end.Sub(last) >= linger || !hasResponse(c, lastTx) {
			c.State = StateNoAnswer
			c.EndCause = EndTimeout
		} else {
			c.State = StateInProgress
		}
	}
}

// fromCaller says whether request m was sent by the side of its leg that
// sent the leg's first request. The From tag says it when both are known
// (a request the callee sends carries the callee's tag in From), which also
// works when the addresses are unknown (text logs); otherwise the source
// address does.
func fromCaller(c *Call, m *Msg) bool {
	leg := &c.Legs[m.Leg]
	if m.fromTag != "" {
		for i := range c.Msgs {
			o := &c.Msgs[i]
			if o.Leg == m.Leg && o.Request && o.init != nil && o.fromTag != "" {
				return o.fromTag == m.fromTag
			}
		}
	}
	return m.Src == leg.A
}

func hasResponse(c *Call, tx int) bool {
	for i := range c.Msgs {
		if !c.Msgs[i].Request && c.Msgs[i].Transaction == tx {
			return true
		}
	}
	return false
}

// q850 returns the Q.850 cause of a Reason header value, 0 if none.
func q850(v string) int {
	for _, r := range strings.Split(v, ",") {
		proto, params, _ := strings.Cut(r, ";")
		if !strings.EqualFold(strings.TrimSpace(proto), "Q.850") {
			continue
		}
		if n, err := strconv.Atoi(paramValue(";"+params, "cause")); err == nil {
			return n
		}
	}
	return 0
}

// refused reports a BYE its peer answered with an error that leaves the
// dialog up: not 481 or 408, after which the dialog is over all the same
// (RFC 3261 15.1.1).
func refused(c *Call, bye *Msg) bool {
	if bye.Transaction < 0 || bye.Transaction >= len(c.Transactions) {
		return false
	}
	st := c.Transactions[bye.Transaction].FinalStatus
	return st >= 300 && st != 481 && st != 408
}
