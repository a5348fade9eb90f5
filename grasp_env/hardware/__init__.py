"""Drivers for the real cell: WSG 50 gripper, KUKA LBR iiwa (KST server), Ensenso camera.

Each driver implements one of the cell interfaces of :mod:`grasp_env.cell` (SI units in its
API; millimetres and degrees only at the wire) and reports every failure as a
:class:`grasp_env.errors.DeviceError` subclass from :mod:`grasp_env.hardware.faults` naming
the device's address and the cause. No driver acknowledges a fault or resumes motion on its
own: after a fault it refuses motion until a person calls ``acknowledge_fault()``.

Modules:
    faults: the driver exception types and the per-driver flight recorder.
    link: the TCP connection where every wait has a deadline.
    driver_state: the drivers' life cycle (disconnected, idle, active, faulted, closed).
    driver_base: the life-cycle members the drivers share (state, fault, close, ``with``;
        connect and reconnect for the TCP ones).
    workspace: the arm's guard (workspace box, tilt, speed, force and joint limits).
    wsg50_protocol: the WSG 50 binary packet format, CRC, stream parser and status codes.
    wsg50: the WSG 50 TCP driver (a :class:`grasp_env.cell.Gripper`).
    iiwa_protocol: the KST / iiwaPy3 line protocol and KUKA's A-B-C angles.
    iiwa: the LBR iiwa driver over KST (a :class:`grasp_env.cell.Robot`), with its workspace
        guard.
    ensenso: the Ensenso stereo camera over ``nxlib`` (a :class:`grasp_env.cell.DepthCamera`).
"""
