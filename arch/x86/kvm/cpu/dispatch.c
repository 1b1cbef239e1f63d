// SPDX-License-Identifier: MIT
/*
 * dispatch.c - the table from Zydis mnemonic to handler.
 *
 * Each instruction-group file registers its handlers from one function;
 * a new file (x87, SSE, ...) adds its own function to the list below and
 * touches nothing else.  Mnemonics nobody registers are valid
 * instructions the engine does not execute yet: they stop with an
 * emulation-failure exit instead of running wrongly.
 */
#include <pthread.h>

#include "cpu_priv.h"

static x86_handler x86_table[ZYDIS_MNEMONIC_MAX_VALUE + 1];
/* Handlers for the 0F/VEX maps where a mnemonic is also a legacy string
 * instruction (MOVSD, CMPSD): looked up first for those maps. */
static x86_handler x86_table_vec[ZYDIS_MNEMONIC_MAX_VALUE + 1];
static pthread_once_t x86_table_once = PTHREAD_ONCE_INIT;

void x86_register(unsigned int mnemonic, x86_handler fn)
{
	if (mnemonic <= ZYDIS_MNEMONIC_MAX_VALUE)
		x86_table[mnemonic] = fn;
}

void x86_register_vec(unsigned int mnemonic, x86_handler fn)
{
	if (mnemonic <= ZYDIS_MNEMONIC_MAX_VALUE)
		x86_table_vec[mnemonic] = fn;
}

static void x86_handlers_fill(void)
{
	x86_alu_register();
	x86_datamov_register();
	x86_control_register();
	x86_string_register();
	x86_io_register();
	x86_system_register();
	x86_sse_register();
	x86_mmx_register();
	x86_fpu_register();
	x86_fxsave_register();
	x86_smm_register();
}

void x86_handlers_init(void)
{
	pthread_once(&x86_table_once, x86_handlers_fill);
}

x86_handler x86_handler_for(unsigned int mnemonic, bool legacy_map)
{
	if (!legacy_map && mnemonic <= ZYDIS_MNEMONIC_MAX_VALUE &&
	    x86_table_vec[mnemonic])
		return x86_table_vec[mnemonic];
	if (mnemonic <= ZYDIS_MNEMONIC_MAX_VALUE && x86_table[mnemonic])
		return x86_table[mnemonic];
	return x86_unimplemented;
}
