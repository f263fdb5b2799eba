import { problemResponse as problem, type RouteSpec } from '@weft/contracts';
import * as W from '../wait.schemas';

/** Signal and review routes (issue 13), merged into the scheduler's route table. */
export const WAIT_ROUTES = {
  sendSignal: {
    method: 'post',
    path: '/v1/signals',
    summary: 'Send a signal (an outside event for steps waiting on it)',
    tag: 'signals',
    body: W.SendSignalBody,
    responses: {
      201: { description: 'Stored; every waiting step it satisfies goes on.', schema: W.Signal },
      200: { description: 'A signal with this id was sent before: the first one.', schema: W.Signal },
      422: problem('The signal is over its bounds'),
    },
  },
  listSignals: {
    method: 'get',
    path: '/v1/signals',
    summary: 'Signals received (kept for WEFT_SIGNAL_RETENTION), oldest first',
    tag: 'signals',
    query: W.ListSignalsQuery,
    responses: { 200: { description: 'A page', schema: W.SignalPage } },
  },
  listReviews: {
    method: 'get',
    path: '/v1/reviews',
    summary: 'Reviews, oldest first (filter by status, workflow, assignee)',
    tag: 'reviews',
    query: W.ListReviewsQuery,
    responses: { 200: { description: 'A page', schema: W.ReviewPage } },
  },
  getReview: {
    method: 'get',
    path: '/v1/reviews/{id}',
    summary: 'A review: the output under review, the form, the run and step, and its decision',
    tag: 'reviews',
    params: W.ReviewPath,
    responses: { 200: { description: 'The review', schema: W.Review }, 404: problem('No such review') },
  },
  decideReview: {
    method: 'post',
    path: '/v1/reviews/{id}/decision',
    summary: 'Decide a review: continue, correct, retry, reject or escalate',
    tag: 'reviews',
    params: W.ReviewPath,
    body: W.DecisionBody,
    responses: {
      200: { description: 'The decision was applied', schema: W.DecisionResult },
      404: problem('No such review'),
      409: problem('Already decided (`decision` holds the earlier one), closed by its run, or no escalation tier left'),
      422: problem('A correction without a payload or one that does not satisfy the form (errors[]); nothing changed'),
    },
  },
  listExceptions: {
    method: 'get',
    path: '/v1/exceptions',
    summary: 'What needs a person: open reviews (review, low-confidence, blocked), failed runs and stuck runs (blocked), oldest first',
    tag: 'exceptions',
    query: W.ListExceptionsQuery,
    responses: { 200: { description: 'A page', schema: W.ExceptionPage } },
  },
  resolveException: {
    method: 'post',
    path: '/v1/exceptions/{kind}/{id}/resolve',
    summary: 'Resolve an item with a note (it leaves the queue, stays in history and the audit log)',
    tag: 'exceptions',
    params: W.ExceptionPath,
    body: W.ResolveBody,
    responses: { 200: { description: 'Resolved', schema: W.Resolved }, 404: problem('No such item in the queue'), 409: problem('Resolved before') },
  },
  bulkExceptions: {
    method: 'post',
    path: '/v1/exceptions/bulk',
    summary: 'Retry, cancel or resolve every open item a filter matches (at most 1000 a call), answering counts; one audit record',
    tag: 'exceptions',
    body: W.BulkExceptionsBody,
    responses: { 200: { description: 'Counts', schema: W.BulkExceptionsResult } },
  },
  listAudit: {
    method: 'get',
    path: '/v1/audit',
    summary: 'The audit log: who sent signals and decided reviews, oldest first (append-only)',
    tag: 'audit',
    query: W.ListAuditQuery,
    responses: { 200: { description: 'A page', schema: W.AuditPage } },
  },
} satisfies Record<string, RouteSpec>;
