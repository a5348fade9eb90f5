"""Loopback emulators of the real cell's devices, for testing the drivers without hardware.

* :mod:`sim.emulators.wsg50_server`: a WSG 50 speaking the binary TCP protocol byte for byte,
  its finger motions carried out by any :class:`grasp_env.cell.Gripper` backend.
* :mod:`sim.emulators.kst_server`: the KST ``MatlabToolboxServer`` line protocol of a KUKA
  iiwa, its motions carried out by any :class:`grasp_env.cell.Robot` backend.
* :mod:`sim.emulators.loopback`: the servers' shared life cycle (listen, serve, stop).
* :mod:`sim.emulators.fake_nxlib`: the used subset of the Ensenso ``nxlib`` Python API, its
  point map drawn by a pluggable renderer.

The servers listen on 127.0.0.1, on an ephemeral port by default, each in a background
thread with a clean ``stop()``; each offers fault injection (no reply, dropped connection,
corrupt reply, fast stop, part lost, collision). Plug the twin's gripper, robot and camera in
as backends to run the real-cell drivers against the simulated physics.
"""
