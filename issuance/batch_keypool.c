/*
 * batch_keypool.c: 9D key pairs made ahead by a thread of their own
 * (batch_int.h), so that a card never waits for an RSA key generation on
 * the host: the escrow-9d step takes one ready, and the thread makes the
 * next while the cards work.
 */
#include <string.h>

#include "issuance/batch_int.h"
#include "issuance/escrow.h"

static void *
keypool_main(void *arg)
{
	struct batch_keypool *kp = arg;
	EVP_PKEY *k;

	pthread_mutex_lock(&kp->mu);
	for (;;) {
		while (!kp->stop && kp->n >= kp->cap)
			pthread_cond_wait(&kp->cv, &kp->mu);
		if (kp->stop)
			break;
		pthread_mutex_unlock(&kp->mu);
		k = NULL;
		/* A failure leaves the step to make its own key (and say
		 * why); the pool waits for the next take before trying. */
		(void)escrow_keygen(kp->alg, &k, NULL);
		pthread_mutex_lock(&kp->mu);
		if (k == NULL) {
			if (!kp->stop)
				pthread_cond_wait(&kp->cv, &kp->mu);
			continue;
		}
		if (kp->stop || kp->n >= kp->cap) {
			EVP_PKEY_free(k);
			continue;
		}
		kp->keys[kp->n++] = k;
		kp->made++;
	}
	pthread_mutex_unlock(&kp->mu);
	return NULL;
}

enum pv_err
batch_keypool_start(struct batch_keypool *kp, enum pkix_alg alg, unsigned cap)
{
	memset(kp, 0, sizeof(*kp));
	kp->alg = alg;
	kp->cap = cap == 0 ? 8 : cap > BATCH_KEYPOOL_MAX ? BATCH_KEYPOOL_MAX :
	    cap;
	if (pthread_mutex_init(&kp->mu, NULL) != 0)
		return PV_E_INTERNAL;
	if (pthread_cond_init(&kp->cv, NULL) != 0) {
		pthread_mutex_destroy(&kp->mu);
		return PV_E_INTERNAL;
	}
	if (pthread_create(&kp->th, NULL, keypool_main, kp) != 0) {
		pthread_cond_destroy(&kp->cv);
		pthread_mutex_destroy(&kp->mu);
		return PV_E_INTERNAL;
	}
	kp->started = true;
	return PV_OK;
}

enum pv_err
batch_keypool_take(void *ctx, enum pkix_alg alg, EVP_PKEY **out,
    struct pv_why *why)
{
	struct batch_keypool *kp = ctx;

	*out = NULL;
	if (kp != NULL && kp->started && alg == kp->alg) {
		pthread_mutex_lock(&kp->mu);
		if (kp->n > 0) {
			*out = kp->keys[--kp->n];
			kp->keys[kp->n] = NULL;
			kp->taken++;
		} else {
			kp->missed++;
		}
		pthread_cond_signal(&kp->cv);
		pthread_mutex_unlock(&kp->mu);
		if (*out != NULL)
			return PV_OK;
	}
	return escrow_keygen(alg, out, why);
}

void
batch_keypool_stop(struct batch_keypool *kp)
{
	unsigned i;

	if (!kp->started)
		return;
	pthread_mutex_lock(&kp->mu);
	kp->stop = true;
	pthread_cond_broadcast(&kp->cv);
	pthread_mutex_unlock(&kp->mu);
	(void)pthread_join(kp->th, NULL);
	for (i = 0; i < kp->n; i++)
		EVP_PKEY_free(kp->keys[i]);	/* private parts cleansed */
	kp->n = 0;
	pthread_cond_destroy(&kp->cv);
	pthread_mutex_destroy(&kp->mu);
	kp->started = false;
}
