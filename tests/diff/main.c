// SPDX-License-Identifier: MIT
/*
 * main.c - skvm-fuzz: generate sequences, run them natively and in the
 * engine, compare, minimize mismatches and summarize coverage.
 *
 * Exit status: 0 when every sequence agreed, 1 on any mismatch, 2 on a
 * usage or set-up error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

struct fz_opts {
	uint64_t seed;
	uint64_t start;
	unsigned long count;
	unsigned int len;
	bool stop_on_first;
	bool minimize;
	bool strict;		/* "not implemented" is a failure */
	bool native_only;	/* run each sequence natively twice */
	bool list;
	int verbose;
	const char *groups;
	const char *skip[64];	/* form name prefixes not to generate */
	unsigned int nskip;
};

/* Totals for the summary. */
static struct {
	unsigned long run, agreed, mismatches, unimpl, native_bad, asm_bad;
	unsigned long faults;
	unsigned long *covered;		/* per form: items executed */
	bool *form_on;
	bool *reported;			/* per form: minimal case printed */
} st;

static const char *const fz_reg_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* ----------------------------------------------------------- running */

struct fz_result {
	struct fz_state nat, eng;
	uint8_t nat_data[FZ_DATA_SIZE], eng_data[FZ_DATA_SIZE];
};

static struct fz_code code;
static struct fz_seq seq, work;
static struct fz_result res;
static bool native_only;

static void fz_run_both(const struct fz_seq *s, const struct fz_code *c,
			struct fz_result *r)
{
	fz_native_run(s, c, &r->nat, r->nat_data);
	if (r->nat.vector < FZ_END)
		return;
	if (native_only)
		fz_native_run(s, c, &r->eng, r->eng_data);
	else
		fz_engine_run(s, c, &r->eng, r->eng_data);
}

/* Flags an engine may differ in for this sequence (see fz_form.undef). */
static uint64_t fz_undef(const struct fz_seq *s)
{
	uint64_t m = 0;
	unsigned int i;

	for (i = 0; i < s->n; i++)
		m |= fz_forms[s->item[i].form].undef;
	return m;
}

enum {
	D_OUTCOME = 1 << 0, D_RIP = 1 << 1, D_GPR = 1 << 2, D_FLAGS = 1 << 3,
	D_MEM = 1 << 4, D_FX = 1 << 5, D_ERR = 1 << 6,
};

/* FXSAVE fields compared: FCW FSW FTW, MXCSR, ST0-7 (80 bits), XMM0-15. */
static bool fz_fx_differs(const uint8_t *a, const uint8_t *b)
{
	unsigned int i;

	if (memcmp(a, b, 5) || memcmp(a + 24, b + 24, 4))
		return true;
	for (i = 0; i < 8; i++)
		if (memcmp(a + 32 + 16 * i, b + 32 + 16 * i, 10))
			return true;
	return memcmp(a + 160, b + 160, 256) != 0;
}

static unsigned int fz_compare(const struct fz_seq *s,
			       const struct fz_result *r)
{
	const struct fz_state *a = &r->nat, *b = &r->eng;
	uint64_t fm = FZ_FLAGS_CMP & ~fz_undef(s);
	unsigned int d = 0, i;

	if (a->vector != b->vector)
		return D_OUTCOME;
	if (a->rip != b->rip)
		d |= D_RIP;
	for (i = 0; i < 16; i++)
		if (a->gpr[i] != b->gpr[i])
			d |= D_GPR;
	if ((a->rflags ^ b->rflags) & fm)
		d |= D_FLAGS;
	if (a->vector == 13 && a->err != b->err)
		d |= D_ERR;
	if (memcmp(r->nat_data, r->eng_data, FZ_DATA_SIZE))
		d |= D_MEM;
	if (s->fp && fz_fx_differs(a->fx, b->fx))
		d |= D_FX;
	return d;
}

/* ---------------------------------------------------------- printing */

static const char *fz_outcome(int v, char *buf, size_t n)
{
	static const char *const names[32] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF",
		"09", "#TS", "#NP", "#SS", "#GP", "#PF", "15", "#MF", "#AC",
		"#MC", "#XM",
	};

	if (v == FZ_END)
		return "end";
	if (v == FZ_TIMEOUT)
		return "timeout";
	if (v == FZ_CRASH)
		return "runner failure";
	if (v == FZ_UNIMPL)
		return "not implemented";
	if (v < 0)
		return "unexpected exit";
	snprintf(buf, n, "%s (vector %d)", v < 32 && names[v] ? names[v] : "?",
		 v);
	return buf;
}

static void fz_print_flags(uint64_t f)
{
	printf("%#llx [%s%s%s%s%s%s%s]", (unsigned long long)f,
	       f & FZ_OF ? " OF" : "", f & FZ_DF ? " DF" : "",
	       f & FZ_SF ? " SF" : "", f & FZ_ZF ? " ZF" : "",
	       f & FZ_AF ? " AF" : "", f & FZ_PF ? " PF" : "",
	       f & FZ_CF ? " CF" : "");
}

static void fz_print_code(const struct fz_code *c, uint64_t mark)
{
	ZydisDisassembledInstruction d;
	unsigned int i, j, n;
	uint64_t la;

	for (i = 0; i < c->ninsn; i++) {
		la = FZ_CODE_LA + c->off[i];
		n = (i + 1 < c->ninsn ? c->off[i + 1] : c->len) - c->off[i];
		printf("  %c %#llx  ", la == mark ? '>' : ' ',
		       (unsigned long long)la);
		for (j = 0; j < 11; j++)
			printf(j < n ? "%02x" : "  ", c->bytes[c->off[i] + j]);
		if (ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64,
				la, c->bytes + c->off[i], n, &d)))
			printf("  %-44s", d.text);
		printf(" %s%s\n", c->main[i] ? "; " : "",
		       c->main[i] ? fz_forms[work.item[c->item[i]].form].name : "");
	}
	printf("  %c %#llx  (end)\n",
	       FZ_CODE_LA + c->len == mark ? '>' : ' ',
	       (unsigned long long)(FZ_CODE_LA + c->len));
}

static void fz_print_state(const struct fz_state *s)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		printf("    %-3s %016llx%s", fz_reg_names[i],
		       (unsigned long long)s->gpr[i], i % 4 == 3 ? "\n" : "");
	printf("    rflags ");
	fz_print_flags(s->rflags);
	printf("\n");
}

static void fz_print_diff(const struct fz_seq *s, const struct fz_result *r)
{
	const struct fz_state *a = &r->nat, *b = &r->eng;
	char b1[32], b2[32];
	unsigned int i, shown = 0;

	printf("  outcome: native %s at %#llx, engine %s at %#llx\n",
	       fz_outcome(a->vector, b1, sizeof(b1)),
	       (unsigned long long)a->rip,
	       fz_outcome(b->vector, b2, sizeof(b2)),
	       (unsigned long long)b->rip);
	if (b->note[0])
		printf("  engine: %s\n", b->note);
	if (a->vector == 13 && a->err != b->err)
		printf("  #GP error code: native %#x, engine %#x\n", a->err,
		       b->err);
	for (i = 0; i < 16; i++)
		if (a->gpr[i] != b->gpr[i])
			printf("  %-3s native %016llx engine %016llx\n",
			       fz_reg_names[i], (unsigned long long)a->gpr[i],
			       (unsigned long long)b->gpr[i]);
	if ((a->rflags ^ b->rflags) & FZ_FLAGS_CMP) {
		printf("  rflags native ");
		fz_print_flags(a->rflags & FZ_FLAGS_CMP);
		printf(" engine ");
		fz_print_flags(b->rflags & FZ_FLAGS_CMP);
		printf("\n");
	}
	for (i = 0; i < FZ_DATA_SIZE && shown < 8; i++) {
		if (r->nat_data[i] == r->eng_data[i])
			continue;
		printf("  mem %#llx: native %02x engine %02x (was %02x)\n",
		       (unsigned long long)(FZ_DATA_LA + i), r->nat_data[i],
		       r->eng_data[i], s->data[i]);
		shown++;
	}
	if (s->fp && fz_fx_differs(a->fx, b->fx))
		printf("  x87/SSE state differs\n");
}

static void fz_report(const struct fz_seq *s, const struct fz_result *r)
{
	work = *s;
	if (!fz_assemble(&work, &code))
		return;
	printf("  code:\n");
	fz_print_code(&code, r->nat.rip);
	printf("  initial state:\n");
	fz_print_state(&s->init);
	fz_print_diff(s, r);
}

/* ---------------------------------------------------------- minimizer */

/* Does s (encoded into code) still show a mismatch? */
static bool fz_still_fails(const struct fz_seq *s)
{
	if (!fz_assemble(s, &code))
		return false;
	fz_run_both(s, &code, &res);
	if (res.nat.vector < FZ_END || res.eng.vector == FZ_UNIMPL)
		return false;
	return fz_compare(s, &res) != 0;
}

static void fz_remove_item(struct fz_seq *s, unsigned int i)
{
	memmove(&s->item[i], &s->item[i + 1],
		(s->n - i - 1) * sizeof(s->item[0]));
	s->n--;
}

/* Shortest failing prefix, then drop items one by one while it fails. */
static void fz_minimize(struct fz_seq *s)
{
	static struct fz_seq t;
	unsigned int n, i, full = s->n;
	bool progress;

	t = *s;
	for (n = 1; n < full; n++) {
		t.n = n;
		if (fz_still_fails(&t))
			break;
	}
	s->n = n < full ? n : full;
	do {
		progress = false;
		for (i = 0; i + 1 < s->n; i++) {
			t = *s;
			fz_remove_item(&t, i);
			if (fz_still_fails(&t)) {
				*s = t;
				progress = true;
				i--;
			}
		}
	} while (progress);
}

/* ------------------------------------------------------------ driver */

static void fz_cover(const struct fz_seq *s, const struct fz_code *c,
		     const struct fz_state *nat)
{
	unsigned int i, last = s->n;

	if (nat->vector != FZ_END) {
		for (i = 0; i < c->ninsn; i++)
			if (FZ_CODE_LA + c->off[i] == nat->rip ||
			    (i + 1 < c->ninsn &&
			     FZ_CODE_LA + c->off[i + 1] == nat->rip))
				break;
		last = i < c->ninsn ? c->item[i] + 1u : s->n;
		if (last > s->n)
			last = s->n;
	}
	for (i = 0; i < last; i++)
		st.covered[s->item[i].form]++;
}

/* The engine does not implement an instruction: stop generating it. */
static void fz_unimpl(const struct fz_seq *s, const struct fz_code *c,
		      const struct fz_state *eng)
{
	unsigned int i, f;

	for (i = 0; i < c->ninsn; i++) {
		if (FZ_CODE_LA + c->off[i] != eng->rip)
			continue;
		f = s->item[c->item[i]].form;
		if (st.form_on[f])
			printf("not implemented by the engine, form disabled: "
			       "%s (%s)\n", fz_forms[f].name, eng->note);
		st.form_on[f] = false;
		return;
	}
	printf("not implemented by the engine at %#llx (%s)\n",
	       (unsigned long long)eng->rip, eng->note);
}

static void fz_mismatch(const struct fz_opts *o, uint64_t idx,
			const struct fz_seq *s, const struct fz_result *r)
{
	static struct fz_seq m;
	static struct fz_result mr, orig;
	unsigned int last;

	st.mismatches++;
	orig = *r;
	r = &orig;
	printf("\nMISMATCH in sequence %llu (reproduce: skvm-fuzz --seed %llu "
	       "--start %llu --count 1 --len %u --groups %s",
	       (unsigned long long)idx, (unsigned long long)o->seed,
	       (unsigned long long)idx, o->len, o->groups);
	for (last = 0; last < o->nskip; last++)
		printf(" --skip '%s'", o->skip[last]);
	printf(")\n");
	if (o->verbose || !o->minimize)
		fz_report(s, r);
	if (!o->minimize)
		return;
	m = *s;
	fz_minimize(&m);
	if (!fz_still_fails(&m)) {
		printf("  (could not reproduce for minimizing)\n");
		fz_report(s, r);
		return;
	}
	mr = res;
	last = m.item[m.n - 1].form;
	printf("  minimal (%u item%s), last form: %s\n", m.n,
	       m.n == 1 ? "" : "s", fz_forms[last].name);
	fz_report(&m, &mr);
	st.reported[last] = true;
}

static void fz_one(const struct fz_opts *o, const struct fz_gen_cfg *cfg,
		   uint64_t idx)
{
	struct fz_rng r = { .s = o->seed * 0x100000001b3ull ^ idx };
	unsigned int tries;

	for (tries = 0; tries < 8; tries++) {
		fz_gen_seq(&r, cfg, &seq);
		if (fz_assemble(&seq, &code))
			break;
		st.asm_bad++;
	}
	if (tries == 8 || !seq.n)
		return;
	fz_run_both(&seq, &code, &res);
	if (res.nat.vector < FZ_END) {
		st.native_bad++;
		if (o->verbose)
			printf("sequence %llu: native %s\n",
			       (unsigned long long)idx, res.nat.note);
		return;
	}
	if (res.eng.vector == FZ_UNIMPL && !o->strict) {
		st.unimpl++;
		fz_unimpl(&seq, &code, &res.eng);
		return;
	}
	st.run++;
	if (o->verbose >= 2) {
		char b[32];

		printf("\nsequence %llu: native %s at %#llx\n",
		       (unsigned long long)idx,
		       fz_outcome(res.nat.vector, b, sizeof(b)),
		       (unsigned long long)res.nat.rip);
		work = seq;
		fz_print_code(&code, res.nat.rip);
		fz_print_state(&seq.init);
		printf("  after:\n");
		fz_print_state(&res.nat);
	}
	if (res.nat.vector != FZ_END)
		st.faults++;
	fz_cover(&seq, &code, &res.nat);
	if (fz_compare(&seq, &res) == 0) {
		st.agreed++;
		return;
	}
	fz_mismatch(o, idx, &seq, &res);
}

static void fz_summary(const struct fz_opts *o, const struct fz_gen_cfg *cfg)
{
	unsigned int usable[FZ_G_COUNT] = { 0 }, hit[FZ_G_COUNT] = { 0 };
	unsigned int i, g, tu = 0, th = 0;

	for (i = 0; i < fz_nforms; i++) {
		if (!fz_form_usable(cfg, i))
			continue;
		usable[fz_forms[i].group]++;
		if (st.covered[i])
			hit[fz_forms[i].group]++;
	}
	printf("\nforms covered (executed at least once / enabled / in table):\n");
	for (g = 0; g < FZ_G_COUNT; g++) {
		unsigned int total = 0;

		for (i = 0; i < fz_nforms; i++)
			total += fz_forms[i].group == g;
		printf("  %-7s %4u / %4u / %4u%s\n", fz_group_names[g], hit[g],
		       usable[g], total, cfg->group[g] ? "" : "  (group off)");
		tu += usable[g];
		th += hit[g];
	}
	printf("  total   %4u / %4u / %4u\n", th, tu, fz_nforms);
	if (o->verbose)
		for (i = 0; i < fz_nforms; i++)
			if (fz_form_usable(cfg, i) && !st.covered[i])
				printf("  never executed: %s\n", fz_forms[i].name);
	for (i = 0; i < fz_nforms; i++)
		if (fz_forms[i].undef)
			printf("  undefined-flags mask %#llx allowed for %s\n",
			       (unsigned long long)fz_forms[i].undef,
			       fz_forms[i].name);
	printf("sequences: %lu compared (%lu ended in an exception), %lu agreed, "
	       "%lu MISMATCHED\n", st.run, st.faults, st.agreed, st.mismatches);
	printf("skipped: %lu hit an instruction the engine does not implement, "
	       "%lu failed natively, %lu did not encode\n",
	       st.unimpl, st.native_bad, st.asm_bad);
}

static int fz_parse_groups(const char *s, struct fz_gen_cfg *cfg)
{
	char buf[256], *tok, *save;
	unsigned int g;

	snprintf(buf, sizeof(buf), "%s", s);
	memset(cfg->group, 0, sizeof(cfg->group));
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			for (g = 0; g < FZ_G_COUNT; g++)
				cfg->group[g] = true;
			continue;
		}
		for (g = 0; g < FZ_G_COUNT; g++)
			if (!strcmp(tok, fz_group_names[g]))
				break;
		if (g == FZ_G_COUNT) {
			fprintf(stderr, "unknown group '%s'\n", tok);
			return -1;
		}
		cfg->group[g] = true;
	}
	return 0;
}

static void fz_usage(void)
{
	printf("usage: skvm-fuzz [options]\n"
	       "  --seed S          generator seed (default 1)\n"
	       "  --start I         first sequence index (default 0)\n"
	       "  --count N         sequences to run (default 1000)\n"
	       "  --len L           instructions per sequence (default 24)\n"
	       "  --groups LIST     gp,str,branch,stack,fault,x87,mmx,sse,all\n"
	       "                    (default: gp,str,branch,stack,fault)\n"
	       "  --stop-on-first   stop at the first mismatch\n"
	       "  --no-minimize     print mismatches as generated\n"
	       "  --strict          an unimplemented instruction is a failure\n"
	       "  --native-only     run natively twice (checks the harness)\n"
	       "  --skip PREFIX     do not generate forms whose name starts\n"
	       "                    with PREFIX (repeatable; known mismatches)\n"
	       "  --list-forms      print the form table and exit\n"
	       "  -v                verbose\n");
}

static int fz_parse(int argc, char **argv, struct fz_opts *o,
		    struct fz_gen_cfg *cfg)
{
	static const struct option lo[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "start", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "len", required_argument, NULL, 'l' },
		{ "groups", required_argument, NULL, 'g' },
		{ "stop-on-first", no_argument, NULL, 'f' },
		{ "no-minimize", no_argument, NULL, 'M' },
		{ "strict", no_argument, NULL, 'S' },
		{ "native-only", no_argument, NULL, 'N' },
		{ "list-forms", no_argument, NULL, 'L' },
		{ "skip", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct fz_opts){ .seed = 1, .count = 1000, .len = 24,
			       .minimize = true };
	o->groups = "gp,str,branch,stack,fault";
	fz_parse_groups(o->groups, cfg);
	while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'i': o->start = strtoull(optarg, NULL, 0); break;
		case 'n': o->count = strtoul(optarg, NULL, 0); break;
		case 'l': o->len = strtoul(optarg, NULL, 0); break;
		case 'g':
			if (fz_parse_groups(optarg, cfg))
				return -1;
			o->groups = optarg;
			break;
		case 'f': o->stop_on_first = true; break;
		case 'M': o->minimize = false; break;
		case 'S': o->strict = true; break;
		case 'N': o->native_only = true; break;
		case 'L': o->list = true; break;
		case 'x':
			if (o->nskip < sizeof(o->skip) / sizeof(o->skip[0]))
				o->skip[o->nskip++] = optarg;
			break;
		case 'v': o->verbose++; break;
		default:
			fz_usage();
			return -1;
		}
	}
	if (!o->len || o->len > FZ_MAX_ITEMS) {
		fprintf(stderr, "--len must be 1..%u\n", FZ_MAX_ITEMS);
		return -1;
	}
	cfg->len = o->len;
	return 0;
}

static void fz_features(const struct fz_opts *o, struct fz_gen_cfg *cfg)
{
	bool host[FZ_F_COUNT], eng[FZ_F_COUNT];
	unsigned int i;

	fz_host_features(host);
	if (o->native_only)
		memcpy(eng, host, sizeof(eng));
	else
		fz_engine_features(eng);
	printf("features:");
	for (i = 1; i < FZ_F_COUNT; i++) {
		cfg->feat[i] = host[i] && eng[i];
		printf(" %s%s", fz_feat_names[i],
		       cfg->feat[i] ? "" : !host[i] ? "(no host)" : "(no engine)");
	}
	cfg->feat[FZ_F_NONE] = true;
	printf("\n");
}

static void fz_skip(const struct fz_opts *o)
{
	unsigned int i, j;

	for (i = 0; i < fz_nforms; i++) {
		st.form_on[i] = true;
		for (j = 0; j < o->nskip; j++)
			if (!strncmp(fz_forms[i].name, o->skip[j],
				     strlen(o->skip[j])))
				st.form_on[i] = false;
		if (!st.form_on[i])
			printf("skipped (--skip): %s\n", fz_forms[i].name);
	}
}

static void fz_list(void)
{
	unsigned int i;

	for (i = 0; i < fz_nforms; i++)
		printf("%-7s %-8s %s\n", fz_group_names[fz_forms[i].group],
		       fz_feat_names[fz_forms[i].feat], fz_forms[i].name);
}

int main(int argc, char **argv)
{
	struct fz_gen_cfg cfg = { 0 };
	struct fz_opts o;
	uint64_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fz_parse(argc, argv, &o, &cfg))
		return 2;
	if (o.list) {
		fz_list();
		return 0;
	}
	native_only = o.native_only;
	st.covered = calloc(fz_nforms, sizeof(*st.covered));
	st.form_on = calloc(fz_nforms, sizeof(*st.form_on));
	st.reported = calloc(fz_nforms, sizeof(*st.reported));
	if (!st.covered || !st.form_on || !st.reported)
		return 2;
	fz_skip(&o);
	cfg.form_on = st.form_on;
	if (fz_native_start() < 0 || (!o.native_only && fz_engine_start())) {
		fprintf(stderr, "skvm-fuzz: cannot set up the runners\n");
		return 2;
	}
	fz_features(&o, &cfg);
	printf("seed %llu, sequences %llu..%llu, %u items each\n",
	       (unsigned long long)o.seed, (unsigned long long)o.start,
	       (unsigned long long)(o.start + o.count - 1), o.len);
	for (i = o.start; i < o.start + o.count; i++) {
		fz_one(&o, &cfg, i);
		if (o.stop_on_first && st.mismatches)
			break;
	}
	fz_summary(&o, &cfg);
	fz_native_stop();
	if (!o.native_only)
		fz_engine_stop();
	return st.mismatches ? 1 : 0;
}
