package call

import "strconv"

func label(m *Msg) string {
	if m.Request {
		return m.Method
	}
	if m.Reason == "" {
		return strconv.Itoa(m.StatusCode)
	}
	return strconv.Itoa(m.StatusCode) + " " + m.Reason
}
