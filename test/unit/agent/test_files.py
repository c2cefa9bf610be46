"""Private directories, cleanups and the uploaded debugpy copy (wand_agent/files.py)."""

import os
import shutil
import tempfile
import threading
import unittest

from wand_agent import files as private_files, injection


class SessionCleanupTest(unittest.TestCase):
    """A session that ends removes the files of requests still in flight, from its main thread."""

    def payload_files(self):
        files = injection.PayloadFiles(tempfile.mkdtemp(prefix='wand-test-'))
        for path in (files.payload, files.status):
            open(path, 'w').close()
        return files

    def left_by_session_end(self, files, pid):
        """What remains of `files` when the session ends while a request that made them runs."""
        entered, release = threading.Event(), threading.Event()

        def request():
            with private_files.cleanup_after(lambda: files.remove(pid)):
                entered.set()
                release.wait(10)
        thread = threading.Thread(target=request)
        thread.start()
        entered.wait(10)
        private_files.run_pending_cleanups()
        remaining = sorted(os.listdir(files.dir)) if os.path.isdir(files.dir) else None
        release.set()
        thread.join()
        return remaining

    def test_files_of_a_request_in_flight_are_removed(self):
        self.assertIsNone(self.left_by_session_end(self.payload_files(), os.getpid()))

    def test_a_payload_still_pending_in_a_live_target_stays(self):
        files = self.payload_files()
        files.handed_over = True
        self.assertEqual(self.left_by_session_end(files, os.getpid()), ['payload'])
        os.unlink(files.payload)
        os.rmdir(files.dir)


class FakeTarget(object):
    def __init__(self, cwd=None):
        self.pid = os.getpid()
        self.fsuid, self.fsgid = os.getuid(), os.getgid()
        self.facts = type('Facts', (), {'cwd': cwd})()


class PrivateDirTest(unittest.TestCase):
    def test_a_private_directory_visible_to_the_target(self):
        path = private_files.make_private_dir(FakeTarget())
        try:
            self.assertTrue(os.path.basename(path).startswith('wand-'))
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o700)
            self.assertTrue(private_files.visible_to_target(FakeTarget(), path))
        finally:
            private_files.remove_quietly(path, is_dir=True)
        self.assertFalse(os.path.exists(path))
        private_files.remove_quietly(path, is_dir=True)  # quietly: twice is fine

    def test_bases_end_with_the_targets_cwd(self):
        self.assertEqual(private_files.private_dir_bases(FakeTarget('/srv/app'))[-1], '/srv/app')
        self.assertEqual(private_files.private_dir_bases(FakeTarget(None)), list(private_files.PRIVATE_DIR_BASES))

    def test_package_root_finds_debugpy_at_the_top_or_one_level_down(self):
        top = tempfile.mkdtemp(prefix='wand-test-')
        self.addCleanup(shutil.rmtree, top)
        self.assertIsNone(private_files.package_root(top))
        os.makedirs(os.path.join(top, 'site', 'debugpy'))
        open(os.path.join(top, 'site', 'debugpy', '__init__.py'), 'w').close()
        self.assertEqual(private_files.package_root(top), os.path.join(top, 'site'))


if __name__ == '__main__':
    unittest.main()
