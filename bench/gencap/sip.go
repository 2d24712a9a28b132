package main

import "strconv"

// msgKind is one SIP message of a dialog script.
type msgKind uint8

const (
	mInvite       msgKind = iota // A -> B, with SDP offer
	mTrying                      // 100
	mRinging                     // 180
	mOKInvite                    // 200 with SDP answer
	mAck                         // ACK for the 2xx, own branch
	mByeA                        // BYE sent by the caller
	mOKByeA                      // its 200
	mByeB                        // BYE sent by the callee
	mOKByeB                      // its 200
	mBusy                        // 486
	mNotFound                    // 404
	mAckErr                      // ACK for a non-2xx final response, INVITE branch
	mCancel                      // CANCEL
	mOKCancel                    // 200 to the CANCEL
	mTerminated                  // 487
	mRegister                    // REGISTER without credentials
	mUnauthorized                // 401
	mRegisterAuth                // REGISTER with Authorization
	mOKRegister                  // 200 to it
	mOptions                     // OPTIONS keepalive
	mOKOptions                   // 200 to it
	numMsgKinds
)

// fromA reports whether the message is sent by side A (the UAC of the
// dialog) rather than by side B.
func (k msgKind) fromA() bool {
	switch k {
	case mInvite, mAck, mByeA, mOKByeB, mAckErr, mCancel, mRegister, mRegisterAuth, mOptions:
		return true
	}
	return false
}

const (
	allowHdr     = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY\r\n"
	supportedHdr = "Supported: replaces, timer\r\n"
)

func appendStr(b []byte, parts ...string) []byte {
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

// appendVia writes the Via of the request sent by ep. In a response
// (received) the UAS adds rport and received as RFC 3581 says.
func appendVia(b []byte, ep *side, branch string, response bool) []byte {
	b = appendStr(b, "Via: SIP/2.0/UDP ", ep.hostport, ";branch=z9hG4bK", branch)
	if response {
		b = appendStr(b, ";rport=5060;received=", ep.ipStr, "\r\n")
	} else {
		b = append(b, ";rport\r\n"...)
	}
	return b
}

func appendNameAddr(b []byte, hdr string, s *side, tag string) []byte {
	b = append(b, hdr...)
	if s.name != "" {
		b = appendStr(b, "\"", s.name, "\" ")
	}
	b = appendStr(b, "<sip:", s.user, "@", s.domain, ">")
	if tag != "" {
		b = appendStr(b, ";tag=", tag)
	}
	return append(b, "\r\n"...)
}

func appendCSeq(b []byte, n uint32, method string) []byte {
	b = append(b, "CSeq: "...)
	b = appendUint(b, uint64(n))
	return appendStr(b, " ", method, "\r\n")
}

// appendSDP writes the session description of side s: an offer lists
// PCMU, PCMA and telephone-event, an answer the chosen codec only.
func appendSDP(b []byte, s *side, sess uint64, codec uint8, offer bool) []byte {
	b = append(b, "v=0\r\no="...)
	b = appendStr(b, s.sdpUser, " ")
	b = appendUint(b, sess)
	b = append(b, ' ')
	b = appendUint(b, sess)
	b = appendStr(b, " IN IP4 ", s.ipStr, "\r\ns=", s.sdpSession, "\r\nc=IN IP4 ", s.ipStr, "\r\nt=0 0\r\nm=audio ")
	b = appendUint(b, uint64(s.rtpPort))
	if offer {
		b = append(b, " RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"...)
	} else if codec == 8 {
		b = append(b, " RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"...)
	} else {
		b = append(b, " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"...)
	}
	b = append(b, "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=maxptime:150\r\na=sendrecv\r\n"...)
	return b
}

// appendBody terminates the headers with Content-Length (and Content-Type
// when there is a body) and appends the body.
func appendBody(b []byte, body []byte) []byte {
	if len(body) > 0 {
		b = append(b, "Content-Type: application/sdp\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = appendUint(b, uint64(len(body)))
	b = append(b, "\r\n\r\n"...)
	return append(b, body...)
}

var reasons = [...]string{
	mTrying:       "100 Trying",
	mRinging:      "180 Ringing",
	mOKInvite:     "200 OK",
	mOKByeA:       "200 OK",
	mOKByeB:       "200 OK",
	mBusy:         "486 Busy Here",
	mNotFound:     "404 Not Found",
	mOKCancel:     "200 OK",
	mTerminated:   "487 Request Terminated",
	mUnauthorized: "401 Unauthorized",
	mOKRegister:   "200 OK",
	mOKOptions:    "200 OK",
	numMsgKinds:   "",
}

// buildSIP appends message k of dialog d to b. body is scratch space for
// the SDP. The output depends on d and k only, so a retransmission is
// byte-identical to the original.
func buildSIP(b, body []byte, d *dialog, k msgKind) (msg, scratch []byte) {
	a, bb := &d.a, &d.b
	body = body[:0]
	switch k {
	case mInvite:
		body = appendSDP(body, a, d.sessA, d.codec, true)
		b = appendStr(b, "INVITE ", d.ruri, " SIP/2.0\r\n")
		b = appendVia(b, a, d.branch, false)
		b = append(b, "Max-Forwards: 70\r\n"...)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		b = appendNameAddr(b, "To: ", bb, "")
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqA, "INVITE")
		b = appendStr(b, "Contact: <", a.contact, ";transport=udp>\r\n", allowHdr, supportedHdr,
			"Session-Expires: 1800;refresher=uac\r\nMin-SE: 90\r\n")
		b = appendNameAddr(b, "P-Asserted-Identity: ", a, "")
		b = appendStr(b, "User-Agent: ", a.ua, "\r\n")
		b = appendBody(b, body)

	case mTrying, mRinging, mOKInvite, mBusy, mNotFound, mTerminated:
		b = appendStr(b, "SIP/2.0 ", reasons[k], "\r\n")
		b = appendVia(b, a, d.branch, true)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		toTag := d.toTag
		if k == mTrying {
			toTag = ""
		}
		b = appendNameAddr(b, "To: ", bb, toTag)
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqA, "INVITE")
		if k == mRinging || k == mOKInvite {
			b = appendStr(b, "Contact: <", bb.contact, ">\r\n")
		}
		if k == mOKInvite {
			b = appendStr(b, allowHdr, supportedHdr, "Require: timer\r\nSession-Expires: 1800;refresher=uac\r\n")
			body = appendSDP(body, bb, d.sessB, d.codec, false)
		}
		if k == mBusy || k == mNotFound {
			b = appendStr(b, "Reason: Q.850;cause=", d.cause, "\r\n")
		}
		b = appendStr(b, "Server: ", bb.ua, "\r\n")
		b = appendBody(b, body)

	case mAck, mAckErr:
		if k == mAck {
			b = appendStr(b, "ACK ", bb.contact, " SIP/2.0\r\n")
			b = appendVia(b, a, d.branch2, false)
		} else {
			b = appendStr(b, "ACK ", d.ruri, " SIP/2.0\r\n")
			b = appendVia(b, a, d.branch, false)
		}
		b = append(b, "Max-Forwards: 70\r\n"...)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		b = appendNameAddr(b, "To: ", bb, d.toTag)
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqA, "ACK")
		b = appendStr(b, "User-Agent: ", a.ua, "\r\n")
		b = appendBody(b, nil)

	case mCancel:
		b = appendStr(b, "CANCEL ", d.ruri, " SIP/2.0\r\n")
		b = appendVia(b, a, d.branch, false)
		b = append(b, "Max-Forwards: 70\r\n"...)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		b = appendNameAddr(b, "To: ", bb, "")
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqA, "CANCEL")
		b = appendStr(b, "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\nUser-Agent: ", a.ua, "\r\n")
		b = appendBody(b, nil)

	case mOKCancel:
		b = append(b, "SIP/2.0 200 OK\r\n"...)
		b = appendVia(b, a, d.branch, true)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		b = appendNameAddr(b, "To: ", bb, d.toTag)
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqA, "CANCEL")
		b = appendStr(b, "Server: ", bb.ua, "\r\n")
		b = appendBody(b, nil)

	case mByeA:
		b = appendStr(b, "BYE ", bb.contact, " SIP/2.0\r\n")
		b = appendVia(b, a, d.branch3, false)
		b = append(b, "Max-Forwards: 70\r\n"...)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		b = appendNameAddr(b, "To: ", bb, d.toTag)
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqA+1, "BYE")
		b = appendStr(b, "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\nUser-Agent: ", a.ua, "\r\n")
		b = appendBody(b, nil)

	case mOKByeA:
		b = append(b, "SIP/2.0 200 OK\r\n"...)
		b = appendVia(b, a, d.branch3, true)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		b = appendNameAddr(b, "To: ", bb, d.toTag)
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqA+1, "BYE")
		b = appendStr(b, "Server: ", bb.ua, "\r\n")
		b = appendBody(b, nil)

	case mByeB:
		b = appendStr(b, "BYE ", a.contact, " SIP/2.0\r\n")
		b = appendVia(b, bb, d.branch3, false)
		b = append(b, "Max-Forwards: 70\r\n"...)
		b = appendNameAddr(b, "From: ", bb, d.toTag)
		b = appendNameAddr(b, "To: ", a, d.fromTag)
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqB, "BYE")
		b = appendStr(b, "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\nUser-Agent: ", bb.ua, "\r\n")
		b = appendBody(b, nil)

	case mOKByeB:
		b = append(b, "SIP/2.0 200 OK\r\n"...)
		b = appendVia(b, bb, d.branch3, true)
		b = appendNameAddr(b, "From: ", bb, d.toTag)
		b = appendNameAddr(b, "To: ", a, d.fromTag)
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqB, "BYE")
		b = appendStr(b, "Server: ", a.ua, "\r\n")
		b = appendBody(b, nil)

	case mRegister, mRegisterAuth:
		b = appendStr(b, "REGISTER sip:", bb.domain, " SIP/2.0\r\n")
		br, cseq := d.branch, d.cseqA
		if k == mRegisterAuth {
			br, cseq = d.branch2, d.cseqA+1
		}
		b = appendVia(b, a, br, false)
		b = append(b, "Max-Forwards: 70\r\n"...)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		b = appendNameAddr(b, "To: ", a, "")
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, cseq, "REGISTER")
		b = appendStr(b, "Contact: <", a.contact, ">;expires=3600\r\n")
		if k == mRegisterAuth {
			b = appendStr(b, "Authorization: Digest username=\"", a.user, "\", realm=\"", bb.domain,
				"\", nonce=\"", d.nonce, "\", uri=\"sip:", bb.domain, "\", response=\"", d.digest,
				"\", algorithm=MD5, cnonce=\"", d.cnonce, "\", qop=auth, nc=00000001\r\n")
		}
		b = appendStr(b, "Expires: 3600\r\n", allowHdr, "User-Agent: ", a.ua, "\r\n")
		b = appendBody(b, nil)

	case mUnauthorized, mOKRegister:
		b = appendStr(b, "SIP/2.0 ", reasons[k], "\r\n")
		br, cseq := d.branch, d.cseqA
		if k == mOKRegister {
			br, cseq = d.branch2, d.cseqA+1
		}
		b = appendVia(b, a, br, true)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		b = appendNameAddr(b, "To: ", a, d.toTag)
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, cseq, "REGISTER")
		if k == mUnauthorized {
			b = appendStr(b, "WWW-Authenticate: Digest realm=\"", bb.domain, "\", nonce=\"", d.nonce,
				"\", algorithm=MD5, qop=\"auth\"\r\n")
		} else {
			b = appendStr(b, "Contact: <", a.contact, ">;expires=3600\r\n")
		}
		b = appendStr(b, "Server: ", bb.ua, "\r\n")
		b = appendBody(b, nil)

	case mOptions:
		b = appendStr(b, "OPTIONS ", bb.contact, " SIP/2.0\r\n")
		b = appendVia(b, a, d.branch, false)
		b = append(b, "Max-Forwards: 70\r\n"...)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		b = appendNameAddr(b, "To: ", bb, "")
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqA, "OPTIONS")
		b = appendStr(b, "Accept: application/sdp\r\nUser-Agent: ", a.ua, "\r\n")
		b = appendBody(b, nil)

	case mOKOptions:
		b = append(b, "SIP/2.0 200 OK\r\n"...)
		b = appendVia(b, a, d.branch, true)
		b = appendNameAddr(b, "From: ", a, d.fromTag)
		b = appendNameAddr(b, "To: ", bb, d.toTag)
		b = appendStr(b, "Call-ID: ", d.callID, "\r\n")
		b = appendCSeq(b, d.cseqA, "OPTIONS")
		b = appendStr(b, allowHdr, "Accept: application/sdp\r\n", supportedHdr, "Server: ", bb.ua, "\r\n")
		b = appendBody(b, nil)
	}
	return b, body
}
