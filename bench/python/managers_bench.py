#!/usr/bin/env python3
"""The Python original Troupe descends from: a distributed task queue with
multiprocessing.managers.BaseManager, as in the classic tutorial (task_master.py /
task_worker.py). The master serves a task queue and a result queue on 127.0.0.1 under an
authkey, puts N ints; worker processes connect, get tasks and put n*n results.

  python3 bench/python/managers_bench.py --n 20000          # one run, prints JSON
  python3 bench/python/managers_bench.py --serve            # for bench/tiny-tasks.ts:
      prints "READY <port>", then answers each stdin line "run N" with one JSON line;
      "quit" (or end of stdin) stops the workers and the manager.
"""
import argparse
import json
import queue
import sys
import time
from multiprocessing import Process
from multiprocessing.managers import BaseManager

AUTHKEY = b'troupe-bench'

task_queue = queue.Queue()
result_queue = queue.Queue()


def get_task_queue():
    return task_queue


def get_result_queue():
    return result_queue


class QueueManager(BaseManager):
    pass


QueueManager.register('get_task_queue', callable=get_task_queue)
QueueManager.register('get_result_queue', callable=get_result_queue)


class WorkerManager(BaseManager):
    pass


WorkerManager.register('get_task_queue')
WorkerManager.register('get_result_queue')


def worker(address):
    """task_worker.py: connect to the master, square every task until a None arrives."""
    manager = WorkerManager(address=address, authkey=AUTHKEY)
    manager.connect()
    task = manager.get_task_queue()
    result = manager.get_result_queue()
    while True:
        n = task.get()
        if n is None:
            break
        result.put(n * n)


def run(task, result, n):
    """task_master.py: put n ints, collect n results. Returns elapsed seconds."""
    start = time.perf_counter()
    for i in range(n):
        task.put(i)
    total = 0
    for _ in range(n):
        total += result.get(timeout=120)
    elapsed = time.perf_counter() - start
    expected = (n - 1) * n * (2 * n - 1) // 6
    if total != expected:
        raise RuntimeError('wrong sum of squares: %d != %d' % (total, expected))
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--n', type=int, default=20000)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--serve', action='store_true')
    args = parser.parse_args()

    manager = QueueManager(address=('127.0.0.1', 0), authkey=AUTHKEY)
    manager.start()
    workers = []
    task = None
    try:
        task = manager.get_task_queue()
        result = manager.get_result_queue()
        for _ in range(args.workers):
            p = Process(target=worker, args=(manager.address,), daemon=True)
            p.start()
            workers.append(p)
        # Answers only once every worker is connected and squaring.
        for i in range(args.workers * 4):
            task.put(i)
        for _ in range(args.workers * 4):
            result.get(timeout=60)

        def report(n, seconds):
            print(json.dumps({'n': n, 'seconds': seconds, 'tasksPerSecond': n / seconds,
                              'python': sys.version.split()[0]}), flush=True)

        if not args.serve:
            report(args.n, run(task, result, args.n))
            return
        print('READY %d' % manager.address[1], flush=True)
        for line in sys.stdin:
            words = line.split()
            if words[:1] == ['run']:
                n = int(words[1])
                report(n, run(task, result, n))
            elif words[:1] == ['quit']:
                break
    finally:
        for _ in workers if task is not None else []:
            try:
                task.put(None)
            except Exception:
                pass
        for p in workers:
            p.join(5)
            if p.is_alive():
                p.kill()
        manager.shutdown()


if __name__ == '__main__':
    main()
