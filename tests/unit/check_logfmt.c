/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: structured log lines (common/logfmt.c) in both formats, the
 * JSON form of every line (common/log.c with log.format = "json"), and the
 * session counters they carry (common/counters.c): the protocol split,
 * sums and the names every output uses. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/counters.h"
#include "common/log.h"
#include "common/logfmt.h"

/* ---- text --------------------------------------------------------------- */

START_TEST(test_text)
{
	struct log_kv kv;
	char out[256];

	log_kv_init(&kv, "session-end");
	log_kv_u64(&kv, "id", 7);
	log_kv_str(&kv, "user", "alice");
	log_kv_str(&kv, "reason", "client logged out");
	log_kv_str(&kv, "empty", "");
	log_kv_str(&kv, "none", NULL);
	log_kv_i64(&kv, "delta", -3);
	log_kv_str(&kv, "tricky", "a=\"b\"\\");
	ck_assert_uint_eq(logfmt_text(&kv, out, sizeof(out)), strlen(out));
	ck_assert_str_eq(out, "session-end id=7 user=alice reason=\"client logged out\" empty=\"\" "
			      "none=- delta=-3 tricky=\"a=\\\"b\\\"\\\\\"");
	/* Cut short, still terminated. */
	ck_assert_uint_eq(logfmt_text(&kv, out, 12), 11);
	ck_assert_str_eq(out, "session-end");
}
END_TEST

START_TEST(test_too_many_fields)
{
	struct log_kv kv;
	char key[16];

	log_kv_init(&kv, "e");
	for (unsigned i = 0; i < LOG_KV_MAX + 3; i++) {
		snprintf(key, sizeof(key), "k%u", i);
		log_kv_u64(&kv, key, i);
	}
	ck_assert_uint_eq(kv.n, LOG_KV_MAX);
	ck_assert_uint_eq(kv.dropped, 3);
}
END_TEST

/* ---- JSON --------------------------------------------------------------- */

START_TEST(test_json_fields)
{
	struct log_kv kv;
	char out[512];

	log_kv_init(&kv, "session-end");
	log_kv_u64(&kv, "id", 18446744073709551615ull);
	log_kv_str(&kv, "user", "al\"ice");
	log_kv_str(&kv, "ipv6", NULL);
	log_kv_i64(&kv, "duration_s", -1);
	ck_assert_uint_gt(logfmt_json("T", "info", "master", NULL, &kv, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "{\"time\":\"T\",\"level\":\"info\",\"tag\":\"master\",\"event\":"
			      "\"session-end\",\"id\":18446744073709551615,\"user\":\"al\\\"ice\","
			      "\"ipv6\":null,\"duration_s\":-1}");
}
END_TEST

/* Control bytes, DEL, backslashes and bytes that are not UTF-8 are
 * escaped; well-formed UTF-8 passes as it is. */
START_TEST(test_json_escapes)
{
	char out[512];
	const char *msg = "a\nb\x7f\\c\xc3\xa9\xff\xc3(\xed\xa0\x80\xf0\x9f\x98\x80";

	ck_assert_uint_gt(logfmt_json("T", "warning", "worker 0", msg, NULL, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "{\"time\":\"T\",\"level\":\"warning\",\"tag\":\"worker 0\",\"msg\":"
			      "\"a\\u000ab\\u007f\\\\c\xc3\xa9\\u00ff\\u00c3(\\u00ed\\u00a0\\u0080"
			      "\xf0\x9f\x98\x80\"}");
}
END_TEST

/* Every byte value in a message: the object stays one line of printable
 * ASCII or UTF-8, closed. */
START_TEST(test_json_every_byte)
{
	char msg[256], out[2048];
	size_t n;

	for (int i = 1; i < 256; i++)
		msg[i - 1] = (char)i;
	msg[255] = '\0';
	n = logfmt_json("T", "info", "master", msg, NULL, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_eq(n, strlen(out));
	for (size_t i = 0; i < n; i++)
		ck_assert_msg((unsigned char)out[i] >= 0x20 && (unsigned char)out[i] < 0x7f,
			      "byte 0x%02x at %zu", (unsigned char)out[i], i);
	ck_assert_str_eq(out + n - 2, "\"}");
}
END_TEST

/* A message too long for the buffer is cut short, the object closed; a
 * buffer too small for the object at all gives 0. */
START_TEST(test_json_cut)
{
	char msg[1000], out[128];
	size_t n;

	memset(msg, 'x', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	n = logfmt_json("T", "info", "master", msg, NULL, out, sizeof(out));
	ck_assert_uint_gt(n, 60);
	ck_assert_uint_lt(n, sizeof(out));
	ck_assert_str_eq(out + n - 3, "x\"}");
	msg[5] = '\n'; /* an escape never split */
	n = logfmt_json("T", "info", "master", msg, NULL, out, 70);
	ck_assert_str_eq(out + n - 2, "\"}");
	ck_assert_uint_eq(logfmt_json("T", "info", "master", msg, NULL, out, 20), 0);
}
END_TEST

/* log.c in JSON mode, under the journal: "<N>" then the object. */
START_TEST(test_log_json_lines)
{
	char path[] = "/tmp/check_logfmt.XXXXXX", buf[4096];
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	char *l1, *l2, *l3, *save = NULL;
	struct log_kv kv;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	setenv("JOURNAL_STREAM", "8:1", 1);
	log_init_master(LOG_INFO);
	ck_assert_int_eq(log_set_destination("stderr", 0), 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	log_set_json(true);
	log_write_line(LOG_WARNING, "master", "login failed for user 'x\n<0>fake'");
	log_kv_init(&kv, "session-end");
	log_kv_u64(&kv, "id", 3);
	log_write_kv(LOG_INFO, &kv);
	log_write_kv(LOG_DEBUG, &kv); /* below the level: nothing */
	log_set_json(false);
	log_write_kv(LOG_INFO, &kv);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	close(fd);
	unlink(path);
	/* Three lines; the time varies, so each is compared around it. */
	l1 = strtok_r(buf, "\n", &save);
	l2 = strtok_r(NULL, "\n", &save);
	l3 = strtok_r(NULL, "\n", &save);
	ck_assert_ptr_nonnull(l3);
	ck_assert_ptr_null(strtok_r(NULL, "\n", &save));
	ck_assert(!strncmp(l1, "<4>{\"time\":\"", 12));
	ck_assert_str_eq(strstr(l1, "\"level\""),
			 "\"level\":\"warning\",\"tag\":\"master\",\"msg\":\"login failed for user "
			 "'x\\u000a<0>fake'\"}");
	ck_assert(!strncmp(l2, "<6>{\"time\":\"", 12));
	ck_assert_str_eq(
	    strstr(l2, "\"level\""),
	    "\"level\":\"info\",\"tag\":\"master\",\"event\":\"session-end\",\"id\":3}");
	ck_assert_str_eq(l3, "<6>master: session-end id=3");
}
END_TEST

/* ---- counters ----------------------------------------------------------- */

START_TEST(test_proto_of)
{
	uint8_t v4[20] = {0x45}, v6[40] = {0x60};

	v4[9] = 6;
	ck_assert_int_eq(ctr_proto_of(v4, sizeof(v4)), CTR_TCP);
	v4[9] = 17;
	ck_assert_int_eq(ctr_proto_of(v4, sizeof(v4)), CTR_UDP);
	v4[9] = 1;
	ck_assert_int_eq(ctr_proto_of(v4, sizeof(v4)), CTR_OTHER);
	v4[9] = 6;
	ck_assert_int_eq(ctr_proto_of(v4, 19), CTR_OTHER); /* too short to tell */
	v6[6] = 6;
	ck_assert_int_eq(ctr_proto_of(v6, sizeof(v6)), CTR_TCP);
	v6[6] = 17;
	ck_assert_int_eq(ctr_proto_of(v6, sizeof(v6)), CTR_UDP);
	v6[6] = 58;
	ck_assert_int_eq(ctr_proto_of(v6, sizeof(v6)), CTR_OTHER);
	v6[6] = 0; /* hop-by-hop first: other */
	ck_assert_int_eq(ctr_proto_of(v6, sizeof(v6)), CTR_OTHER);
	v6[0] = 0x50;
	ck_assert_int_eq(ctr_proto_of(v6, sizeof(v6)), CTR_OTHER);
}
END_TEST

#define N_FIELDS (sizeof(struct sess_counters) / sizeof(uint64_t))

static void fill(struct sess_counters *c, uint64_t base)
{
	uint64_t v[N_FIELDS];

	for (size_t i = 0; i < N_FIELDS; i++)
		v[i] = base + i;
	memcpy(c, v, sizeof(v));
}

START_TEST(test_counters_add)
{
	struct sess_counters a, b, zero = {0};
	uint64_t v[N_FIELDS];

	fill(&a, 1);
	fill(&b, 1000);
	ck_assert(sess_counters_any(&a));
	ck_assert(!sess_counters_any(&zero));
	sess_counters_add(&a, &b);
	memcpy(v, &a, sizeof(v));
	for (size_t i = 0; i < N_FIELDS; i++)
		ck_assert_uint_eq(v[i], 1001 + 2 * i);
	zero.drop[DROP_N - 1] = 1; /* the last field of the table counts too */
	ck_assert(sess_counters_any(&zero));
	ck_assert_uint_eq(sess_counters_drops(&zero), 1);
}
END_TEST

START_TEST(test_ctr_rx_tx)
{
	struct sess_counters c = {0};

	ctr_rx(&c, CTR_UDP, 3, 300);
	ctr_rx(&c, CTR_TCP, 1, 60);
	ctr_tx(&c, CTR_OTHER, 2, 168);
	ck_assert_uint_eq(c.rx_pkts, 4);
	ck_assert_uint_eq(c.rx_bytes, 360);
	ck_assert_uint_eq(c.rx_proto[CTR_UDP].pkts, 3);
	ck_assert_uint_eq(c.rx_proto[CTR_TCP].bytes, 60);
	ck_assert_uint_eq(c.tx_proto[CTR_OTHER].pkts, 2);
	ck_assert_uint_eq(c.tx_bytes, 168);
}
END_TEST

struct seen {
	unsigned n;
	char keys[64][40];
	uint64_t vals[64];
};

static void collect(void *arg, const char *key, uint64_t v)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->n, 64);
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
	s->vals[s->n++] = v;
}

/* Every field exactly once, under the names tunnelctl and the
 * session-end line use. */
START_TEST(test_counters_each)
{
	struct sess_counters c;
	struct seen s = {0};
	uint64_t seen_mask[N_FIELDS] = {0};

	fill(&c, 100);
	sess_counters_each(&c, collect, &s);
	ck_assert_uint_eq(s.n, N_FIELDS);
	for (unsigned i = 0; i < s.n; i++) {
		ck_assert_uint_ge(s.vals[i], 100);
		ck_assert_uint_lt(s.vals[i], 100 + N_FIELDS);
		ck_assert_uint_eq(seen_mask[s.vals[i] - 100]++, 0);
	}
	ck_assert_str_eq(s.keys[0], "rx_pkts");
	ck_assert_uint_eq(s.vals[0], c.rx_pkts);
	ck_assert_str_eq(s.keys[4], "rx_tcp_pkts");
	ck_assert_uint_eq(s.vals[4], c.rx_proto[CTR_TCP].pkts);
	ck_assert_str_eq(s.keys[15], "tx_other_bytes");
	ck_assert_uint_eq(s.vals[15], c.tx_proto[CTR_OTHER].bytes);
	ck_assert_str_eq(s.keys[16], "drop_spoofed");
	ck_assert_uint_eq(s.vals[16], c.drop[DROP_SPOOFED]);
	ck_assert_str_eq(s.keys[s.n - 2], "dtls_tx_bytes");
	ck_assert_uint_eq(s.vals[s.n - 2], c.dtls_tx_bytes);
	ck_assert_str_eq(s.keys[s.n - 1], "dns_intercepted");
	ck_assert_uint_eq(s.vals[s.n - 1], c.dns_intercepted);
	for (int r = 0; r < DROP_N; r++)
		ck_assert(drop_reasons[r].name && drop_reasons[r].help);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("logfmt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_too_many_fields);
	tcase_add_test(tc, test_json_fields);
	tcase_add_test(tc, test_json_escapes);
	tcase_add_test(tc, test_json_every_byte);
	tcase_add_test(tc, test_json_cut);
	tcase_add_test(tc, test_log_json_lines);
	tcase_add_test(tc, test_proto_of);
	tcase_add_test(tc, test_counters_add);
	tcase_add_test(tc, test_ctr_rx_tx);
	tcase_add_test(tc, test_counters_each);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
