/*
 * term.c: the terminal and its restoring on every way out (term.h).
 */
#include <curses.h>
#include <term.h>

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tui/model.h"
#include "tui/term.h"

/* What the signal handlers touch: set before they are installed. */
static struct termios tui_saved_tios;
static volatile sig_atomic_t tui_have_tios;
static volatile sig_atomic_t tui_active;	/* curses owns the screen */
static volatile sig_atomic_t tui_quit_sig;
static int tui_sig_pipe[2] = { -1, -1 };
/* Leaves the alternate screen, shows the cursor, resets attributes and
 * the keypad: from terminfo, copied while it is safe to look. */
static char tui_reset_seq[256];
static size_t tui_reset_len;

static const int tui_crash_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
	SIGABRT };
#define TUI_N_CRASH	(sizeof(tui_crash_sigs) / sizeof(tui_crash_sigs[0]))
static struct sigaction tui_old_crash[TUI_N_CRASH];
static const int tui_quit_sigs[] = { SIGINT, SIGTERM, SIGHUP };
#define TUI_N_QUIT	(sizeof(tui_quit_sigs) / sizeof(tui_quit_sigs[0]))
static struct sigaction tui_old_quit[TUI_N_QUIT];
static bool tui_handlers;

static int tui_attrs[TUI_A__COUNT];
static bool tui_mono_on, tui_utf8_on, tui_atexit_done;

/* ---- restoring, async-signal-safe ------------------------------------------------- */

static void
tui_restore_raw(void)
{
	ssize_t k;

	if (!tui_active)
		return;
	tui_active = 0;
	if (tui_reset_len > 0)
		k = write(STDOUT_FILENO, tui_reset_seq, tui_reset_len);
	else
		k = write(STDOUT_FILENO, "\033[?1049l\033[?25h\033[0m\r\n", 20);
	(void)k;
	if (tui_have_tios)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &tui_saved_tios);
}

static void
tui_crash_handler(int sig, siginfo_t *si, void *uc)
{
	size_t i;

	tui_restore_raw();
	/* On to whoever handled it before (a sanitizer's report reaches a
	 * sane terminal), else the default: the process dies of it. */
	for (i = 0; i < TUI_N_CRASH; i++) {
		if (tui_crash_sigs[i] != sig)
			continue;
		if ((tui_old_crash[i].sa_flags & SA_SIGINFO) &&
		    tui_old_crash[i].sa_sigaction != NULL) {
			tui_old_crash[i].sa_sigaction(sig, si, uc);
			return;
		}
		if (tui_old_crash[i].sa_handler != SIG_DFL &&
		    tui_old_crash[i].sa_handler != SIG_IGN &&
		    tui_old_crash[i].sa_handler != NULL) {
			tui_old_crash[i].sa_handler(sig);
			return;
		}
	}
	(void)signal(sig, SIG_DFL);
	(void)raise(sig);
}

static void
tui_quit_handler(int sig)
{
	int saved = errno;
	char c = 's';
	ssize_t k;

	if (tui_quit_sig == 0)
		tui_quit_sig = sig;
	if (tui_sig_pipe[1] >= 0) {
		k = write(tui_sig_pipe[1], &c, 1);
		(void)k;
	}
	errno = saved;
}

static void
tui_handlers_install(void)
{
	struct sigaction sa;
	size_t i;

	if (tui_handlers)
		return;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = tui_crash_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
	for (i = 0; i < TUI_N_CRASH; i++)
		(void)sigaction(tui_crash_sigs[i], &sa, &tui_old_crash[i]);
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = tui_quit_handler;
	sa.sa_flags = 0;	/* no SA_RESTART: poll() wakes up */
	for (i = 0; i < TUI_N_QUIT; i++)
		(void)sigaction(tui_quit_sigs[i], &sa, &tui_old_quit[i]);
	tui_handlers = true;
}

static void
tui_handlers_remove(void)
{
	size_t i;

	if (!tui_handlers)
		return;
	for (i = 0; i < TUI_N_CRASH; i++)
		(void)sigaction(tui_crash_sigs[i], &tui_old_crash[i], NULL);
	for (i = 0; i < TUI_N_QUIT; i++)
		(void)sigaction(tui_quit_sigs[i], &tui_old_quit[i], NULL);
	tui_handlers = false;
}

/* Copies the terminfo strings that undo what curses did. */
static void
tui_reset_seq_build(void)
{
	static const char *const caps[] = { "rmcup", "cnorm", "sgr0",
		"rmkx" };
	size_t i, n;
	char *s;

	tui_reset_len = 0;
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		s = tigetstr((char *)(uintptr_t)caps[i]);
		if (s == NULL || s == (char *)-1)
			continue;
		n = strlen(s);
		if (tui_reset_len + n >= sizeof(tui_reset_seq) - 2)
			break;
		memcpy(tui_reset_seq + tui_reset_len, s, n);
		tui_reset_len += n;
	}
	memcpy(tui_reset_seq + tui_reset_len, "\r\n", 2);
	tui_reset_len += 2;
}

/* ---- colours ----------------------------------------------------------------------- */

static void
tui_attrs_init(bool mono)
{
	const char *nc = getenv("NO_COLOR");

	/* https://no-color.org: any non-empty NO_COLOR means none. */
	tui_mono_on = mono || (nc != NULL && nc[0] != '\0') || !has_colors();
	tui_attrs[TUI_A_NORMAL] = A_NORMAL;
	if (!tui_mono_on && start_color() == OK) {
		(void)use_default_colors();
		init_pair(1, COLOR_WHITE, COLOR_BLUE);
		init_pair(2, COLOR_BLACK, COLOR_CYAN);
		init_pair(3, COLOR_GREEN, -1);
		init_pair(4, COLOR_YELLOW, -1);
		init_pair(5, COLOR_RED, -1);
		init_pair(6, COLOR_CYAN, -1);
		init_pair(7, COLOR_BLACK, COLOR_WHITE);
		tui_attrs[TUI_A_TITLE] = (int)(COLOR_PAIR(1) | A_BOLD);
		tui_attrs[TUI_A_SEL] = (int)COLOR_PAIR(2);
		tui_attrs[TUI_A_OK] = (int)(COLOR_PAIR(3) | A_BOLD);
		tui_attrs[TUI_A_WARN] = (int)(COLOR_PAIR(4) | A_BOLD);
		tui_attrs[TUI_A_ERR] = (int)(COLOR_PAIR(5) | A_BOLD);
		tui_attrs[TUI_A_DIM] = (int)A_DIM;
		tui_attrs[TUI_A_KEY] = (int)COLOR_PAIR(7);
		tui_attrs[TUI_A_FRAME] = (int)COLOR_PAIR(6);
		tui_attrs[TUI_A_FOCUS] = (int)(A_UNDERLINE | A_BOLD);
		return;
	}
	tui_mono_on = true;
	/* Monochrome: reverse for bars and choices, bold for what matters. */
	tui_attrs[TUI_A_TITLE] = (int)A_REVERSE;
	tui_attrs[TUI_A_SEL] = (int)A_REVERSE;
	tui_attrs[TUI_A_OK] = (int)A_BOLD;
	tui_attrs[TUI_A_WARN] = (int)A_BOLD;
	tui_attrs[TUI_A_ERR] = (int)(A_BOLD | A_UNDERLINE);
	tui_attrs[TUI_A_DIM] = (int)A_DIM;
	tui_attrs[TUI_A_KEY] = (int)A_REVERSE;
	tui_attrs[TUI_A_FRAME] = (int)A_NORMAL;
	tui_attrs[TUI_A_FOCUS] = (int)A_UNDERLINE;
}

int
tui_term_attr(enum tui_attr a)
{
	return a < TUI_A__COUNT ? tui_attrs[a] : (int)A_NORMAL;
}

bool
tui_term_mono(void)
{
	return tui_mono_on;
}

bool
tui_term_utf8(void)
{
	return tui_utf8_on;
}

/* ---- open and close ----------------------------------------------------------------- */

static void
tui_term_atexit(void)
{
	tui_term_close();
}

enum pv_err
tui_term_open(bool mono, struct pv_why *why)
{
	const char *cs;
	int i;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return pv_why_set(why, PV_E_INPUT, "the console needs a "
		    "terminal on standard input and output");
	(void)setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	tui_utf8_on = cs != NULL && strcmp(cs, "UTF-8") == 0;
	if (tcgetattr(STDIN_FILENO, &tui_saved_tios) == 0)
		tui_have_tios = 1;
	if (tui_sig_pipe[0] < 0) {
		if (pipe(tui_sig_pipe) != 0)
			return pv_why_set(why, PV_E_IO, "pipe: %s",
			    strerror(errno));
		for (i = 0; i < 2; i++) {
			(void)fcntl(tui_sig_pipe[i], F_SETFL,
			    fcntl(tui_sig_pipe[i], F_GETFL) | O_NONBLOCK);
			(void)fcntl(tui_sig_pipe[i], F_SETFD, FD_CLOEXEC);
		}
	}
	tui_handlers_install();
	if (!tui_atexit_done) {
		(void)atexit(tui_term_atexit);
		tui_atexit_done = true;
	}
	/* Esc alone must not wait a second for a sequence that never
	 * comes. */
	set_escdelay(25);
	if (initscr() == NULL) {
		tui_handlers_remove();
		return pv_why_set(why, PV_E_INPUT, "cannot set up the terminal "
		    "(TERM=%s)", getenv("TERM") != NULL ? getenv("TERM") :
		    "");
	}
	tui_reset_seq_build();
	tui_active = 1;
	(void)cbreak();
	(void)noecho();
	(void)nonl();
	(void)keypad(stdscr, TRUE);
	(void)nodelay(stdscr, TRUE);
	(void)curs_set(0);
	tui_attrs_init(mono);
	return PV_OK;
}

void
tui_term_close(void)
{
	if (!tui_active)
		return;
	tui_active = 0;
	(void)curs_set(1);
	(void)endwin();
	if (tui_have_tios)
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &tui_saved_tios);
	fflush(stdout);
	tui_handlers_remove();
}

int
tui_term_fd(void)
{
	return tui_sig_pipe[0];
}

int
tui_term_signal(void)
{
	char buf[16];

	if (tui_sig_pipe[0] >= 0)
		while (read(tui_sig_pipe[0], buf, sizeof(buf)) > 0)
			;
	return (int)tui_quit_sig;
}

/* ---- keys ----------------------------------------------------------------------------- */

int
tui_term_key(void)
{
	wint_t ch;
	int rc = wget_wch(stdscr, &ch);

	if (rc == ERR)
		return TUI_K_NONE;
	if (rc == KEY_CODE_YES) {
		if (ch >= (wint_t)KEY_F(1) && ch <= (wint_t)KEY_F(12))
			return TUI_K_F1 + (int)(ch - (wint_t)KEY_F(1));
		switch (ch) {
		case KEY_UP: return TUI_K_UP;
		case KEY_DOWN: return TUI_K_DOWN;
		case KEY_LEFT: return TUI_K_LEFT;
		case KEY_RIGHT: return TUI_K_RIGHT;
		case KEY_HOME: return TUI_K_HOME;
		case KEY_END: return TUI_K_END;
		case KEY_PPAGE: return TUI_K_PGUP;
		case KEY_NPAGE: return TUI_K_PGDN;
		case KEY_BACKSPACE: return TUI_K_BS;
		case KEY_DC: return TUI_K_DEL;
		case KEY_BTAB: return TUI_K_BTAB;
		case KEY_ENTER: return TUI_K_ENTER;
		case KEY_RESIZE: return TUI_K_RESIZE;
		default: return TUI_K_NONE;
		}
	}
	switch (ch) {
	case 27: return TUI_K_ESC;
	case '\r':
	case '\n': return TUI_K_ENTER;
	case '\t': return TUI_K_TAB;
	case 127:
	case 8: return TUI_K_BS;
	case 21: return TUI_K_CTRL_U;
	default: break;
	}
	if (ch < 0x20 || ch >= 0x110000)
		return TUI_K_NONE;
	return (int)ch;
}
