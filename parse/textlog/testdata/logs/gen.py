#!/usr/bin/env python3
"""Writes the hand-built log fixtures of this folder from one SIP call.

The formats follow the printing code of each program (see README.md); the
SIP text is the sipp call of ../../../../testdata/captures/basic-call.pcap.
Run: python3 gen.py
"""
INV = """INVITE sip:bob@10.99.0.2:5060 SIP/2.0
Via: SIP/2.0/UDP 10.99.0.1:5070;branch=z9hG4bK-22325-1-0
From: "Alice" <sip:alice@10.99.0.1:5070>;tag=22325SIPpTag091
To: <sip:bob@10.99.0.2:5060>
Call-ID: 1-22325@10.99.0.1
CSeq: 1 INVITE
Contact: <sip:alice@10.99.0.1:5070;transport=UDP>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: 129

v=0
o=alice 53655765 2353687637 IN IP4 10.99.0.1
s=-
c=IN IP4 10.99.0.1
t=0 0
m=audio 6100 RTP/AVP 8
a=rtpmap:8 PCMA/8000
"""
TRY = """SIP/2.0 100 Trying
Via: SIP/2.0/UDP 10.99.0.1:5070;branch=z9hG4bK-22325-1-0
From: "Alice" <sip:alice@10.99.0.1:5070>;tag=22325SIPpTag091
To: <sip:bob@10.99.0.2:5060>
Call-ID: 1-22325@10.99.0.1
CSeq: 1 INVITE
Content-Length: 0

"""
OK = """SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.99.0.1:5070;branch=z9hG4bK-22325-1-0
From: "Alice" <sip:alice@10.99.0.1:5070>;tag=22325SIPpTag091
To: <sip:bob@10.99.0.2:5060>;tag=22307SIPpTag011
Call-ID: 1-22325@10.99.0.1
CSeq: 1 INVITE
Contact: <sip:bob@10.99.0.2:5060;transport=UDP>
Content-Length: 0

"""
ACK = """ACK sip:bob@10.99.0.2:5060 SIP/2.0
Via: SIP/2.0/UDP 10.99.0.1:5070;branch=z9hG4bK-22325-1-4
From: "Alice" <sip:alice@10.99.0.1:5070>;tag=22325SIPpTag091
To: <sip:bob@10.99.0.2:5060>;tag=22307SIPpTag011
Call-ID: 1-22325@10.99.0.1
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

"""
_h, _b = INV.split("\n\n", 1)
INV = _h.replace("Content-Length: 129", "Content-Length: %d" % len(_b.replace("\n", "\r\n"))) + "\n\n" + _b
BYE = ACK.replace("ACK sip", "BYE sip").replace("1 ACK", "2 BYE").replace("-1-4", "-1-9")
OKB = OK.replace("1 INVITE", "2 BYE").replace("-1-0", "-1-9")
ALICE, BOB = "10.99.0.1:5070", "10.99.0.2:5060"
# (message, sender, seconds) as the PBX at 10.99.0.2 sees them
CALL = [(INV, ALICE, 0.0), (TRY, BOB, 0.005), (OK, BOB, 0.5), (ACK, ALICE, 0.51), (BYE, ALICE, 4.5), (OKB, BOB, 4.501)]

def crlf(m):
    return m.replace("\n", "\r\n")

def clock(s, frac=6):
    base = 15 * 3600 + 48 * 60 + 30
    t = base + s
    h, m, sec = int(t // 3600), int(t % 3600 // 60), t % 60
    if frac == 0:
        return "%02d:%02d:%02d" % (h, m, int(sec))
    return "%02d:%02d:%0*.*f" % (h, m, 3 + frac, frac, sec)

def w(name, text):
    with open(name, "w", newline="") as f:
        f.write(text)

# Asterisk pjsip logger (res_pjsip_logger.c: "<--- Received SIP %s (%d bytes) from %s:%s --->\n%s\n"),
# in the full log with the [date] VERBOSE[pid] prefix on the first line.
out = []
for m, who, s in CALL:
    kind = "request" if not m.startswith("SIP/") else "response"
    if who == ALICE:
        out.append("[Nov 22 %s] VERBOSE[4242] res_pjsip_logger.c: <--- Received SIP %s (%d bytes) from UDP:%s --->\n" % (clock(s, 0)[:8], kind, len(crlf(m)), ALICE))
    else:
        out.append("[Nov 22 %s] VERBOSE[4242] res_pjsip_logger.c: <--- Transmitting SIP %s (%d bytes) to UDP:%s --->\n" % (clock(s, 0)[:8], kind, len(crlf(m)), ALICE))
    out.append(crlf(m) + "\n")
    if m is INV:
        out.append("[Nov 22 15:48:30] NOTICE[4242] res_pjsip_session.c: Call from 'alice' to extension 'bob'\n")
w("asterisk-pjsip.log", "".join(out))

# chan_sip "sip set debug on" (chan_sip.c: "\n<--- SIP read from %s:%s --->\n%s\n<------------->\n",
# "%sTransmitting (%s) to %s:\n%s\n---\n"), console output without prefixes.
out = []
for m, who, s in CALL:
    if who == ALICE:
        out.append("\n<--- SIP read from UDP:%s --->\n%s\n<------------->\n" % (ALICE, m))
    else:
        out.append("Transmitting (no NAT) to %s:\n%s\n---\n" % (ALICE, m))
w("asterisk-chansip.log", "".join(out))

# FreeSWITCH sofia siptrace (sofia-sip tport_logging.c: "recv %zu bytes from %s/[%s]:%u at %02u:%02u:%02u.%06lu:\n"
# then the message between lines of 72 dashes, each line indented by three spaces).
DASH = "   " + "-" * 72 + "\n"
out = ["2026-11-22 15:48:29.000001 [NOTICE] switch_core.c:1234 FreeSWITCH started\n"]
for m, who, s in CALL:
    if who == ALICE:
        out.append("recv %d bytes from udp/[10.99.0.1]:5070 at %s:\n" % (len(crlf(m)), clock(s)))
    else:
        out.append("send %d bytes to udp/[10.99.0.1]:5070 at %s:\n" % (len(crlf(m)), clock(s)))
    out.append(DASH)
    out.extend("   " + l + "\n" for l in m.rstrip("\n").split("\n"))
    out.append(DASH)
w("freeswitch.log", "".join(out))

# Cisco IOS "debug ccsip messages".
out = []
for m, who, s in CALL:
    out.append("Nov 22 %s: //-1/xxxxxxxxxxxx/SIP/Msg/ccsipDisplayMsg:\n" % clock(s, 3))
    out.append("Received: \n" if who == ALICE else "Sent: \n")
    out.append(m + "\n")
w("cisco.log", "".join(out))

# FireBrick log lines.
out = []
for m, who, s in CALL:
    other = BOB if who == ALICE else ALICE
    d = "Rx" if who == ALICE else "Tx"
    out.append("22 Nov 2026 %s voip-udp-%s VoIP %s 17 %s->%s\n" % (clock(s, 0)[:8], d.lower(), d, who, other))
    out.append(m.rstrip("\n") + "\n\n")
w("firebrick.log", "".join(out))

# Syslog: an SPA-style line per message with ^M markers, an rsyslog line
# with #015#012 escapes and an RFC 5424 line with a literal CR.
out = []
for i, (m, who, s) in enumerate(CALL):
    t = clock(s, 0)[:8]
    if i % 3 == 0:
        out.append("Nov 22 %s 10.99.0.1 %s\n" % (t, crlf(m).replace("\r\n", "^M ").rstrip(" ")))
    elif i % 3 == 1:
        out.append("<134>Nov 22 %s pbx kamailio[77]: %s\n" % (t, crlf(m).replace("\r\n", "#015#012")))
    else:
        out.append("<134>1 2026-11-22T%sZ pbx kamailio 77 - - %s\n" % (clock(s)[:15], crlf(m).replace("\r\n", "\r")))
w("syslog.log", "".join(out))

# Kamailio xlog("L_INFO", "$mb") to stderr: the prefix on the first line, the
# message as received (CRLF kept) on the following ones.
out = []
for m, who, s in CALL:
    out.append(" 0(4711) INFO: <script>: " + crlf(m) + "\n")
w("kamailio-xlog.log", "".join(out))
